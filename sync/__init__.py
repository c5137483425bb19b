"""Device-side sync with the central server (requests). Never imports Qt."""
