"""Shared code of the segbridge Rocks integration.

Installed next to Rocks' own ``rocks`` package (``/opt/rocks/lib/python2.7/site-packages``)
and imported by the insert-ethers plugin and the ``rocks ... segbridge`` commands.
Runs on Rocks' Python 2.7 (``/opt/rocks/bin/python``; 2.6 on Rocks 6) and on Python 3:
no f-strings, no keyword-only arguments, no annotations, no py3-only stdlib.
"""
from __future__ import absolute_import, division, print_function

__version__ = "0.1.0"
