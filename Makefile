# Every target creates .venv when missing and installs the package with the tested constraints.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lattice_lab-installed
PYTEST_ARGS ?=

.PHONY: setup demo test lab bench book clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,lab,cluster,audio,grading]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/lattice-lab demo

# The whole suite in fast mode: unit, property and doctests (tests/, lattice_lab/, benchmarks/), every
# notebook through nbmake (each under 90 s), widget tests headless and in a real browser.
# One BLAS/OpenMP thread per process: several processes (pytest, kernels, a browser) share two
# cores, and spin-waiting threads made training steps 25-50x slower there.
test: setup
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} LATTICE_LAB_FAST=1 LATTICE_LAB_QUIET=1 MPLBACKEND=Agg $(PY) -m pytest tests lattice_lab benchmarks \
		--nbmake --nbmake-timeout=90 notebooks $(PYTEST_ARGS)

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: setup
	$(PY) -m benchmarks

# The course site (jupyter-book 1.x: notebooks, syllabus, methods, bibliography, Binder and Colab
# launch buttons) into _build/html/, every notebook executed in full mode. BOOK_ARGS=--fast
# executes them with small budgets; BOOK_ARGS=--no-execute renders them as committed (tests/test_book.py).
# Then the student site (_build/student_site/_build/html/): the student editions, executed the same way.
book: setup
	$(PY) book/build.py $(BOOK_ARGS)
	$(PY) book/build.py --student $(BOOK_ARGS)

# The student edition: every notebook with its `solution` cells removed (nbconvert's
# TagRemovePreprocessor), written to _build/student/; the committed notebooks stay the
# instructor edition. tests/test_student_editions.py runs every copy and checks its checks.
STUDENT_OUT ?= _build/student
.PHONY: student
student: setup
	$(PY) book/student.py --out $(STUDENT_OUT) $(STUDENT_ARGS)

# The labs' assignments: a student copy of each lab (no solutions, no hidden tests) in _build/assignments/student/
# and an autograder copy (the solution and labs/hidden/<lab>/q*.py) in _build/assignments/autograder/. Grade a
# submission with: lattice-lab grade SUBMISSION.ipynb --tests _build/assignments/autograder/tests [--json]
ASSIGNMENTS_OUT ?= _build/assignments
.PHONY: assignments
assignments: setup
	$(PY) book/assignments.py --out $(ASSIGNMENTS_OUT)

clean:
	rm -rf $(VENV) lattice_lab_results .pytest_cache _build
