"""Regenerate the billing-cycle fixtures: one quote, two deposits, three situations,
a final invoice and a credit note, as the billing system of Atelier Durand would post them.

Each later document lists the earlier ones (`previous_invoices`) with the figures docsvc
answered for them, exactly as a billing system stores them; the API rejects a document
whose list disagrees with the archive, so `tests/e2e/test_cycle_api.py` posting the whole
story in order proves the fixtures and the engine agree.
"""
import json
from copy import deepcopy
from pathlib import Path

from docsvc.billing.document import enrich
from docsvc.schemas.payload import load_payload

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
invoice = json.loads((ROOT / "invoice.json").read_text())

QUOTE = {
    "number": "D-2026-0098", "date": "2026-09-15",
    "lines": [
        {"id": "1", "description": "Démolition et évacuation des cloisons existantes", "quantity": "1",
         "unit": "C62", "unit_price": "2850.00", "vat_rate": "10"},
        {"id": "2", "description": "Cloisons en plaques de plâtre, isolation phonique", "quantity": "64",
         "unit": "MTK", "unit_price": "58.00", "vat_rate": "10"},
        {"id": "3", "description": "Chape et carrelage grès cérame", "quantity": "48", "unit": "MTK",
         "unit_price": "96.50", "vat_rate": "10"},
        {"id": "4", "description": "Isolation des murs par l'intérieur (économie d'énergie)", "quantity": "72",
         "unit": "MTK", "unit_price": "64.00", "vat_rate": "5.5"},
        {"id": "5", "description": "Pompe à chaleur air/eau 8 kW, fourniture et pose", "quantity": "1",
         "unit": "C62", "unit_price": "9800.00", "vat_rate": "5.5", "discount": {"percent": "5"}},
        {"id": "6", "description": "Électricité : tableau, circuits, appareillage", "quantity": "1", "unit": "C62",
         "unit_price": "4620.00", "vat_rate": "10"},
        {"id": "7", "description": "Peintures, deux couches, finition velours", "quantity": "210", "unit": "MTK",
         "unit_price": "21.00", "vat_rate": "10"},
        {"id": "8", "description": "Cuisine équipée (hors pose)", "quantity": "1", "unit": "C62",
         "unit_price": "6400.00", "vat_rate": "20"},
    ],
}
COMMON = {k: invoice[k] for k in ("currency", "language", "seller", "buyer", "payment")}
COMMON["template"] = {"name": "classic", "version": "1.0.0"}
COMMON["formats"] = ["pdf", "docx"]
COMMON["operation"] = "mixed"

PROGRESS = [  # cumulative percent per quote line, situation by situation
    {"1": "100", "2": "60", "3": "0", "4": "50", "5": "0", "6": "30", "7": "0", "8": "0"},
    {"1": "100", "2": "100", "3": "70", "4": "100", "5": "100", "6": "80", "7": "20", "8": "0"},
    {"1": "100", "2": "100", "3": "100", "4": "100", "5": "100", "6": "100", "7": "90", "8": "50"},
]


def previous_entry(number, doc):
    entry = {"type": doc.type.value, "number": number, "issue_date": doc.issue_date.isoformat(),
             "net_total": str(doc.totals.net_total), "gross_total": str(doc.totals.gross_total),
             "vat": [{"rate": str(r.rate), "base": str(r.base), "amount": str(r.amount)} for r in doc.vat_breakdown]}
    if doc.corrects is not None:
        entry["corrects"] = {"number": doc.corrects.number, "issue_date": doc.corrects.issue_date.isoformat()}
    if doc.retention is not None:
        entry["retention"] = str(doc.totals.retention_total)
        if doc.retention.release_date:
            entry["retention_release_date"] = doc.retention.release_date.isoformat()
    return entry


def payload(doc_type, number, issue_date, **fields):
    out = deepcopy(COMMON)
    out.update({"type": doc_type, "number": number, "issue_date": issue_date, "quote": QUOTE}, **fields)
    return out


story = []  # (file name, payload)
previous = []
for name, number, day, deposit in (("deposit_invoice", "FA-2026-0101", "2026-09-20", {"percent": "30"}),
                                   ("deposit_invoice_2", "FA-2026-0105", "2026-10-01", {"amount": "5000.00"})):
    p = payload("deposit_invoice", number, day, deposit=deposit, previous_invoices=deepcopy(previous),
                deposit_layout="detailed" if name == "deposit_invoice_2" else "summary")
    if name == "deposit_invoice":  # invoiced once the deposit was received: it prints the date received
        p["payments"] = [{"date": "2026-09-18", "amount": "13382.97", "means": "transfer", "reference": "VIR-20260918"}]
    story.append((name, p))
    previous.append(previous_entry(number, enrich(load_payload(p))))

credit = deepcopy(COMMON)
credit.update({"type": "credit_note", "number": "A-2026-0011", "issue_date": "2026-12-05",
               "corrects": {"number": "F-2026-0131", "issue_date": "2026-11-30", "type": "progress_invoice"},
               "settlement": {"method": "deduction"},
               "lines": [{"description": "Peintures : 20 m² comptés en situation n° 2 et non réalisés",
                          "quantity": "20", "unit": "MTK", "unit_price": "21.00", "vat_rate": "10"}]})

before = {k: "0" for k in PROGRESS[0]}
for k, (number, day) in enumerate((("F-2026-0120", "2026-10-31"), ("F-2026-0131", "2026-11-30"),
                                   ("F-2026-0140", "2026-12-05")), start=1):
    if k == 3:  # the credit note of 5 December on situation 2 comes before situation 3, which lists it
        story.append(("credit_note_progress", credit))
        previous.append(previous_entry("A-2026-0011", enrich(load_payload(credit))))
    now = PROGRESS[k - 1]
    p = payload("progress_invoice", number, day, deposit_deduction="progressive",
                progress=[{"line": line, "percent": now[line], "previous_percent": before[line]}
                          for line in now if now[line] != before[line] or before[line] != "0"],
                previous_invoices=deepcopy(previous),
                retention={"percent": "5", "release_date": "2027-12-18"})
    if k == 3:  # the schedule gives the due dates: no terms_days to contradict it
        p["schedule"] = {"installments": 2, "first_due_date": "2027-01-31", "end_of_month": True}
        p["payment"] = {k: v for k, v in p["payment"].items() if k != "terms_days"}
    story.append((f"progress_invoice_{k}", p))
    previous.append(previous_entry(number, enrich(load_payload(p))))
    before = now

story.append(("final_invoice", payload("final_invoice", "F-2026-0152", "2026-12-05",
                                       previous_invoices=deepcopy(previous))))

for name, p in story:
    (ROOT / f"{name}.json").write_text(json.dumps(p, ensure_ascii=False, indent=2) + "\n")
(ROOT / "cycle.json").write_text(json.dumps([name for name, _ in story], indent=2) + "\n")
print("wrote", ", ".join(name for name, _ in story))
