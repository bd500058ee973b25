"""A hand-made archive for the index tests: 30 resources across three sellers, every type,
two years, with the quote, correction, due date, amounts and payment status each search
filters on. Resources are written straight into a filesystem archive, shaped as issue()
writes them (the fields the index reads, and a file record)."""
from __future__ import annotations

import json
from datetime import date, timedelta

from docsvc.archive import keys
from docsvc.archive.filesystem import FilesystemArchive

A, B, C = "912345675", "552100554", "DE811907980"  # C: a German seller, keyed by its VAT id
ACME, SCI = "845123983", "732829320"  # buyers' SIRENs
CODES = {"invoice": "380", "deposit_invoice": "386", "progress_invoice": "380", "final_invoice": "380",
         "credit_note": "381"}

#: seller, number, type, issue date, buyer SIREN (None: a consumer), gross total, amount due,
#: payment status, quote, corrected invoice. Due date: issue date + 30 days.
DOCUMENTS = [
    (A, "F-2025-0099", "invoice", "2025-12-31", ACME, "720.00", "0.00", "paid", None, None),
    (A, "F-2026-0001", "invoice", "2026-01-15", ACME, "1200.00", "1200.00", "unpaid", None, None),
    (A, "F-2026-0002", "invoice", "2026-02-03", SCI, "480.00", "0.00", "paid", None, None),
    (A, "AV-2026-0001", "credit_note", "2026-02-10", SCI, "80.00", "80.00", "unpaid", None, "F-2026-0002"),
    (A, "FA-2026-0001", "deposit_invoice", "2026-03-01", ACME, "1605.90", "1605.90", "unpaid", "D-2026-0007", None),
    (A, "FS-2026-0001", "progress_invoice", "2026-04-10", ACME, "2000.00", "2000.00", "unpaid", "D-2026-0007", None),
    (A, "FS-2026-0002", "progress_invoice", "2026-05-12", ACME, "1500.00", "500.00", "partially_paid",
     "D-2026-0007", None),
    (A, "F-2026-0003", "invoice", "2026-06-20", None, "99.99", "0.00", "paid", None, None),
    (A, "FF-2026-0001", "final_invoice", "2026-06-20", ACME, "247.10", "247.10", "unpaid", "D-2026-0007", None),
    (A, "F-2026-0004", "invoice", "2026-07-01", SCI, "15000.00", "10000.00", "partially_paid", None, None),
    (A, "FA-2026-0002", "deposit_invoice", "2026-08-01", SCI, "3000.00", "3000.00", "unpaid", "D-2026-0012", None),
    (A, "F-2026-0005", "invoice", "2026-08-14", ACME, "350.00", "350.00", "unpaid", None, None),
    (A, "F-2026-0006", "invoice", "2026-09-30", ACME, "350.00", "350.00", "unpaid", None, None),
    (A, "F-2026-0007", "invoice", "2026-10-01", ACME, "1200.01", "1200.01", "unpaid", None, None),
    (A, "F-2026/0008", "invoice", "2026-11-02", SCI, "10.00", "10.00", "unpaid", None, None),
    (A, "AV-2026-0002", "credit_note", "2026-11-03", ACME, "350.00", "350.00", "unpaid", None, "F-2026-0006"),
    (B, "2026-001", "invoice", "2026-01-15", ACME, "5000.00", "5000.00", "unpaid", None, None),
    (B, "2026-002", "invoice", "2026-03-20", A, "620.40", "0.00", "paid", None, None),
    (B, "2026-003", "credit_note", "2026-03-25", A, "620.40", "620.40", "unpaid", None, "2026-002"),
    (B, "2026-004", "deposit_invoice", "2026-04-01", ACME, "900.00", "900.00", "unpaid", "D-2026-0007", None),
    (B, "2026-005", "invoice", "2026-06-20", SCI, "1200.00", "0.00", "paid", None, None),
    (B, "2026-006", "final_invoice", "2026-09-01", ACME, "2100.00", "2100.00", "unpaid", "D-2026-0007", None),
    (B, "2026-007", "invoice", "2026-10-15", SCI, "75.00", "75.00", "unpaid", None, None),
    (B, "2026-008", "invoice", "2026-11-20", ACME, "349.99", "349.99", "unpaid", None, None),
    (C, "RE-1", "invoice", "2026-02-01", ACME, "1190.00", "1190.00", "unpaid", None, None),
    (C, "RE-2", "invoice", "2026-06-20", None, "59.50", "0.00", "paid", None, None),
    (C, "RE-3", "credit_note", "2026-07-15", ACME, "119.00", "119.00", "unpaid", None, "RE-1"),
    (C, "RE-4", "invoice", "2026-08-01", SCI, "2380.00", "2380.00", "unpaid", None, None),
    (C, "RE-5", "invoice", "2026-10-01", ACME, "476.00", "476.00", "unpaid", None, None),
    (C, "RE-6", "invoice", "2026-11-23", SCI, "23.80", "23.80", "unpaid", None, None),
]


def doc_id(seller: str, number: str) -> str:
    return keys.document_id(seller, number)


def resource(seller, number, doc_type, issued, buyer, gross, due_amount, status, quote, corrects,
             created_at: str | None = None) -> dict:
    issue = date.fromisoformat(issued)
    identifier = doc_id(seller, number)
    net = f"{(float(gross) / 1.2):.2f}"  # the index keeps net and VAT as given; no test filters on them
    vat = f"{float(gross) - float(net):.2f}"
    return {
        "id": identifier, "type": doc_type, "number": number,
        "seller": {"name": f"Vendeur {seller}", "siren": seller if seller.isdigit() else None},
        "buyer": {"name": f"Client {buyer or 'particulier'}"},
        "issue_date": issued,
        # back-dated F-2025-0099 was keyed in on 2 January; the rest on their issue day
        "created_at": created_at or ("2026-01-02T09:00:00+00:00" if number == "F-2025-0099"
                                     else f"{issued}T10:00:00+00:00"),
        "template": {"name": "classic", "version": "1.0.0", "sha256": "0" * 64},
        "totals": {"net_total": net, "vat_total": vat, "gross_total": gross, "prepaid_total": "0.00",
                   "retention_total": "0.00", "amount_due": due_amount, "vat_breakdown": []},
        "document": {
            "type": doc_type, "type_code": CODES[doc_type], "number": number, "issue_date": issued,
            "due_date": (issue + timedelta(days=30)).isoformat(), "currency": "EUR",
            "seller": {"name": f"Vendeur {seller}"},
            "buyer": {"name": f"Client {buyer or 'particulier'}", "siren": buyer},
            "payment_status": status,
            "quote": {"number": quote} if quote else None,
            "corrects": {"number": corrects, "issue_date": "2026-01-01", "type": None} if corrects else None,
        },
        "files": [{"format": "pdf", "media_type": "application/pdf", "size": 1, "version": None,
                   "filename": f"{identifier}.pdf", "sha256": "0" * 64,
                   "key": keys.file_key(identifier, "r", "pdf"), "url": f"/v1/documents/{identifier}/files/pdf"}],
        "archive": {"backend": "filesystem", "retain_until": f"{issue.year + 10}{issued[4:]}"},
        "payload_sha256": "0" * 64,
    }


def write(archive: FilesystemArchive, res: dict) -> None:
    archive.put_once(keys.resource_key(res["id"]), json.dumps(res).encode(), content_type="application/json",
                     retain_until=None)


def make_archive(root) -> FilesystemArchive:
    archive = FilesystemArchive(root)
    for row in DOCUMENTS:
        write(archive, resource(*row))
    return archive
