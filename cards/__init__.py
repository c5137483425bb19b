"""Membership cards: the signed QR credential, card layout and PDF output. Never imports Qt."""
