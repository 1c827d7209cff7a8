from pcc_assistant.cli import main

main()
