"""Every widget of the desktop app (PySide6). Never writes SQL: it calls storage/."""
