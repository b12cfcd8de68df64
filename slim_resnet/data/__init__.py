"""Data in: image folders (one subfolder per class) and slim-format TFRecords."""
