"""Domain logic and the local registry. Never imports Qt: usable from the window, the command
line, the server and tests alike."""
