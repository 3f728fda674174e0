"""Tune files <-> note lists, with no tokens: the only modules that import the MIDI and ABC
libraries (pretty_midi and mido in `midi.py`, music21 in `abc.py`; tests/test_architecture.py).

`files.py` says which files are tunes and turns any parser failure into a skipped entry;
`melody.py` picks the melody track of a note list. Each encoding (music/paper, music/beat) turns
these note lists into its tokens and back.
"""
