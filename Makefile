# Every target creates or reuses .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench screenshots lint sysdeps sysdeps-run clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# poppler's pdftoppm rasterises card PDFs in the tests; Xvfb is used for real-window screenshots.
# Debian's Chromium and its driver run the dashboard's browser test (never downloaded at run time).
sysdeps:
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "poppler-utils (pdftoppm) is needed: sudo apt-get install poppler-utils"; exit 1; fi; }
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium and chromium-driver are needed: sudo apt-get install chromium chromium-driver"; exit 1; fi; }

# Qt's xcb platform plugin needs a few X libraries that minimal Linux installs lack.
XCB_LIBS := libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0
sysdeps-run: $(STAMP)
	@plugin=$$($(PY) -c 'import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / "Qt/plugins/platforms/libqxcb.so")'); \
	if [ -f "$$plugin" ] && ldd "$$plugin" 2>/dev/null | grep -q 'not found'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq $(XCB_LIBS) >/dev/null; \
	  else echo "Qt needs these X libraries: sudo apt-get install $(XCB_LIBS)"; exit 1; fi; fi

run: $(STAMP) sysdeps-run
	$(PY) main.py $(ARGS)

test: $(STAMP) sysdeps
	$(PY) -m ruff check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP) sysdeps
	QT_QPA_PLATFORM=offscreen $(PY) -m bench $(BENCH_ARGS)

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots docs/screenshots

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
