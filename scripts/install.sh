#!/usr/bin/env bash
# Installs what the project needs on a fresh machine of our kind (Debian, Python 3.11+, Java 17+,
# Maven): uv, the locked Python packages, Debian's Chromium (and its translations) for the page
# tests and LibreOffice Calc (headless) for the workbook tests (the CJK font of the reports comes as a Python package).
# Kafka's jars are fetched by the launcher on first start (mvn), PostgreSQL comes as a wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  echo "install: uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
fi
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
"$UV" sync --frozen --quiet

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Its Chinese strings: the page tests run it in zh-CN, where a date input reads 2021/06/18.
[ -f /usr/lib/chromium/locales/zh-CN.pak ] || missing+=(chromium-l10n)
[ -x /usr/bin/soffice ] || missing+=(libreoffice-calc-nogui)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install: ${missing[*]} (Debian packages)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
