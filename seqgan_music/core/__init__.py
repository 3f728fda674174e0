"""The generic SeqGAN core: integer token sequences only; it imports no domain (music, text)."""
