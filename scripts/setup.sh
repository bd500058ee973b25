#!/usr/bin/env bash
# Installs everything docsvc needs on a fresh Debian/Ubuntu machine: the system
# libraries WeasyPrint links against, fonts, poppler (tests read PDFs with it), PostgreSQL
# (the index tests start their own server; none is left running), and a
# virtualenv in .venv with the package and its test extra. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
              libfontconfig1 shared-mime-info fonts-dejavu-core fonts-inter poppler-utils
              chromium redis-server  # tests: chromium for the designer page, redis for shared rate limits
              default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java  # tests: Apache PDFBox Preflight (/usr/share/java/preflight.jar; Java 17 lacks javax.activation and JAXB) checks the PDF/A
              libreoffice-writer-nogui  # tests: the DOCX opened as a user would, converted to PDF
              postgresql)  # tests: the search index against a real PostgreSQL (initdb in a temporary folder)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
