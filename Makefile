# fieldcollect — two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FIELDCOLLECT_HOME ?= $(CURDIR)/var
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
LOANS ?= 20000

.PHONY: install run system test lint types unit pg browser messages clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

messages: install
	cd fieldcollect && ../$(BIN)/django-admin compilemessages --ignore=.venv >/dev/null

run: install
	$(BIN)/fieldcollect demo --loans $(LOANS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache  # the layers in pyproject.toml [tool.importlinter]

types: install
	$(BIN)/mypy fieldcollect config bench

unit: install
	$(BIN)/pytest -q -x -n 2 -m "not browser and not spark"
	$(BIN)/pytest -q -x -m "spark"

pg: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -x -m "django_db and not browser"

browser: install
	$(BIN)/pytest -q -x -m "browser"

# what the tests need from the machine (packages, PostgreSQL, Redis): installs or starts it as root with
# apt-get, otherwise stops with the command that fixes it
system:
	@PYTHON=$(PYTHON) PG_URL=$(PG_URL) bash scripts/ensure-system.sh

test: system lint types unit pg browser

clean:
	rm -rf $(VENV) var staticfiles
