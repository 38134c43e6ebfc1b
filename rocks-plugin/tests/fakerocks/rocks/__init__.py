# Minimal stand-in for Rocks' rocks-pylib package (core:src/rocks-pylib/rocks/), just
# what segbridge's plugin and commands touch, with Rocks' real names and signatures.
version = "7.0"
version_major = "7"
