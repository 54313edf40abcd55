#!/usr/bin/env sh
# Keep the translations current: extract every string marked with _() / _l(), merge them into
# each language's catalogue, then compile the catalogues the app loads.
#   scripts/i18n.sh           extract + update + compile (then translate the new empty msgstr)
#   scripts/i18n.sh compile   compile only (after editing a .po file)
#   scripts/i18n.sh init xx   start a new language
set -eu
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
POT=lms/translations/messages.pot
DIR=lms/translations

extract() {
  "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --sort-by-file \
    --project Relais --copyright-holder "Relais contributors" -o "$POT" .
}

case "${1:-all}" in
  all)
    extract
    "$PYBABEL" -q update -i "$POT" -d "$DIR" --ignore-obsolete
    "$PYBABEL" compile -d "$DIR" --statistics
    ;;
  compile)
    "$PYBABEL" compile -d "$DIR" --statistics
    ;;
  init)
    extract
    "$PYBABEL" init -i "$POT" -d "$DIR" -l "$2"
    ;;
  *)
    echo "usage: scripts/i18n.sh [all|compile|init LANG]" >&2
    exit 2
    ;;
esac
