"""Madoguchi: the one command-line entry point that ties the parts together."""
