# VoiceAdmin: `make run` starts the console with the simulator; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# XStatic packages still build with pkg_resources, which newer setuptools dropped.
PIP_INSTALL := PIP_CONSTRAINT=constraints-build.txt $(VENV)/bin/pip install --quiet --disable-pip-version-check

.PHONY: run test setup setup-dev lint messages clean

$(VENV)/.runtime: requirements.txt constraints-build.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

# Local use only: DJANGO_DEBUG=1 gives the simulator's keys and a throwaway secret, so the README's
# `.venv/bin/python manage.py …` commands work in this clone. A .env already there is kept as it is.
.env:
	printf '# Written by `make run` for local use; a deployment sets its own environment (DJANGO_DEBUG=0).\nDJANGO_DEBUG=1\n' > $@

run: setup .env
	mkdir -p var
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 $(PY) manage.py runconsole

test: setup-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .

messages: setup-dev
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
