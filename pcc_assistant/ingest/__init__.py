"""From a file to the report's own paragraphs: load, remove page furniture, paragraph."""
