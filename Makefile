# Every target creates or reuses .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench screenshots lint sysdeps sysdeps-run sysdeps-xvfb clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# poppler's pdftoppm rasterises card PDFs in the tests; Xvfb is used for real-window screenshots.
# Debian's Chromium and its driver run the dashboard's browser test (never downloaded at run time).
# PostgreSQL's server binaries (initdb, pg_ctl) start the tests' throwaway cluster
# (tests/pg_cluster.py); the tests never use a PostgreSQL service the package may start.
sysdeps:
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "poppler-utils (pdftoppm) is needed: sudo apt-get install poppler-utils"; exit 1; fi; }
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium and chromium-driver are needed: sudo apt-get install chromium chromium-driver"; exit 1; fi; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "$$JAMSOS_TEST_PG_BIN" ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL (initdb, pg_ctl) is needed: sudo apt-get install postgresql"; exit 1; fi; }

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

# The README's pictures are taken in a real X window: Xvfb (a 1366x768 screen, the field
# laptop's) with Qt's xcb platform. Xvfb is installed with apt when missing, as poppler is.
sysdeps-xvfb:
	@command -v Xvfb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq xvfb >/dev/null; \
	  else echo "Xvfb is needed: sudo apt-get install xvfb"; exit 1; fi; }

screenshots: $(STAMP) sysdeps sysdeps-run sysdeps-xvfb
	@d=99; while [ -e /tmp/.X$$d-lock ] || [ -e /tmp/.X11-unix/X$$d ]; do d=$$((d+1)); done; \
	Xvfb :$$d -screen 0 1366x768x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$$!; \
	trap 'kill $$xvfb 2>/dev/null' EXIT; \
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /tmp/.X11-unix/X$$d ] && break; sleep 0.5; done; \
	TZ=Asia/Jakarta DISPLAY=:$$d QT_QPA_PLATFORM=xcb $(PY) -m ui.screenshots docs/screenshots \
	  $(SCREENSHOT_ARGS)
	@# The dashboard's pictures come from headless Chromium (make sysdeps installs it).
	@if [ -f tests/dashboard_screenshots.py ]; then \
	  $(PY) tests/dashboard_screenshots.py docs/screenshots; fi

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
