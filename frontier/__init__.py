"""The `frontier` command line. It may import every layer; no layer imports it."""
