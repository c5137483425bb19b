"""Operations: the actions of several steps that the window (`ui/`) and the command line (`cli/`)
both run, each written once. Qt-free; they call down into `storage`, `cards`, `sync` and the
demo's local server (`server.local`), never up into `ui` or `cli`.

`cards.py` reprint and hand-over at the card desk; `enrolment.py` enrolling this device with a
server; `imports.py` importing a CSV or XLSX list; `demo.py` the one-machine demo and demo data.
"""
