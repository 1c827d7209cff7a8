"""Answering: evidence in, cited and verified claims out."""
