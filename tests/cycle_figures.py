"""The figures of the fixtures' billing cycle, worked out by hand.

fixtures/{deposit_invoice, deposit_invoice_2, progress_invoice_1, progress_invoice_2,
credit_note_progress, progress_invoice_3, final_invoice}.json (fixtures/cycle.json gives the
order) bill quote D-2026-0098 of Atelier Durand. tools/make_cycle_fixtures.py writes them and
fills each `previous_invoices` entry with what the engine answered for the earlier document,
so the fixtures alone only prove the engine agrees with itself. Here every figure is derived
from DOMAIN.md's rules, the arithmetic beside it; the engine is never asked.

Money rounds half-up to the cent ("-> x"). Rates are keyed as the API writes them.

The quote D-2026-0098 (quantity x unit price, per VAT rate):
  10 %:  L1 2850.00; L2 64 x 58.00 = 3712.00; L3 48 x 96.50 = 4632.00; L6 4620.00;
         L7 210 x 21.00 = 4410.00                          base 20224.00, VAT 2022.40
  5.5 %: L4 72 x 64.00 = 4608.00; L5 9800.00 - 5 % (490.00) = 9310.00
                                                          base 13918.00, VAT 765.49 (765.49)
  20 %:  L8 6400.00                                        base  6400.00, VAT 1280.00
  net 40542.00, VAT 4067.89, gross 44609.89; gross per rate 22246.40, 14683.49, 7680.00
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D


@dataclass(frozen=True)
class Figures:
    number: str
    vat: dict[str, tuple[D, D]]  # rate -> (base, VAT), one row per rate the document shows
    net: D
    vat_total: D
    gross: D
    amount_due: D
    retention: D = D("0.00")  # withheld by this document
    deducted: dict[str, D] = field(default_factory=dict)  # deposits deducted per rate (situations)


# Deposit FA-2026-0101 of 2026-09-20: 30 % of the quote, per rate (DOMAIN.md: base_r = round(quote_base_r x p))
#   10 %:  20224.00 x 30 % = 6067.20, VAT 606.72
#   5.5 %: 13918.00 x 30 % = 4175.40, VAT 229.647 -> 229.65
#   20 %:   6400.00 x 30 % = 1920.00, VAT 384.00
#   net 6067.20 + 4175.40 + 1920.00 = 12162.60; VAT 606.72 + 229.65 + 384.00 = 1220.37; gross 13382.97
#   received in full on 2026-09-18 (payments: 13382.97): due 13382.97 - 13382.97 = 0.00
DEPOSIT_1 = Figures("FA-2026-0101",
                    {"10.00": (D("6067.20"), D("606.72")), "5.50": (D("4175.40"), D("229.65")),
                     "20.00": (D("1920.00"), D("384.00"))},
                    net=D("12162.60"), vat_total=D("1220.37"), gross=D("13382.97"), amount_due=D("0.00"))

# Deposit FA-2026-0105 of 2026-10-01: a fixed 5000.00 gross, split in proportion to the quote's gross
# per rate (sum 44609.89), largest remainder first:
#   10 %:  5000 x 22246.40 / 44609.89 = 2493.4381 -> 2493.43 (remainder .0081)
#   5.5 %: 5000 x 14683.49 / 44609.89 = 1645.7662 -> 1645.76 (remainder .0062)
#   20 %:  5000 x  7680.00 / 44609.89 =  860.7957 ->  860.79 (remainder .0057)
#   2493.43 + 1645.76 + 860.79 = 4999.98: the 2 cents left go to 10 % then 5.5 %: 2493.44, 1645.77, 860.79
# each part as base + round(base x rate):
#   10 %:  2493.44 / 1.1 = 2266.76; VAT 226.676 -> 226.68; 2266.76 + 226.68 = 2493.44
#   5.5 %: 1645.77 / 1.055 = 1559.97; VAT 85.798 -> 85.80; 1645.77
#   20 %:  860.79 has no base: 717.32 + 143.46 = 860.78, 717.33 + 143.47 (143.466) = 860.80; the nearest,
#          717.33, gives 860.80, so the whole is 5000.01
# docsvc then takes the cent off the lowest rate (billing/cycle.py, _settle_cent): 5.5 % base 1559.96,
#   VAT 85.7978 -> 85.80, 1645.76; 2493.44 + 1645.76 + 860.80 = 5000.00
#   net 2266.76 + 1559.96 + 717.33 = 4544.05; VAT 226.68 + 85.80 + 143.47 = 455.95; gross 5000.00, all due
DEPOSIT_2 = Figures("FA-2026-0105",
                    {"10.00": (D("2266.76"), D("226.68")), "5.50": (D("1559.96"), D("85.80")),
                     "20.00": (D("717.33"), D("143.47"))},
                    net=D("4544.05"), vat_total=D("455.95"), gross=D("5000.00"), amount_due=D("5000.00"))

# The deposits, per rate (the D_r of DOMAIN.md's progressive deduction):
#   10 %: 6067.20 + 2266.76 = 8333.96; 5.5 %: 4175.40 + 1559.96 = 5735.36; 20 %: 1920.00 + 717.33 = 2637.33
#
# Situations: works per line = round(line net x cumulative %) - round(line net x previous %);
# progressive deduction per rate = round(D_r x W_r(k) / Q_r) - round(D_r x W_r(k-1) / Q_r), W_r(k) the
# cumulative works at situation k, Q_r the quote's base; VAT on works minus deduction; a VAT row for each
# rate with works in the situation. Retention 5 % of the works incl. VAT (VAT on the works, per rate),
# telescoping like the deduction: round(5 % x cumulative works incl. VAT at k) - the same at k-1,
# so the situations withhold exactly 5 % of the whole, to the cent. Amount due = gross - retention.

# Situation 1, F-2026-0120 of 2026-10-31: L1 100 %, L2 60 %, L4 50 %, L6 30 %, the rest 0 %
#   works 10 %:  2850.00 + 3712.00 x 60 % (2227.20) + 4620.00 x 30 % (1386.00) = 6463.20
#   works 5.5 %: 4608.00 x 50 % = 2304.00; works 20 %: 0.00
#   deduction 10 %:  8333.96 x 6463.20 / 20224.00 = 2663.3727 -> 2663.37
#   deduction 5.5 %: 5735.36 x 2304.00 / 13918.00 =  949.4374 ->  949.44; 20 %: 0.00
#   bases 10 %: 6463.20 - 2663.37 = 3799.83, VAT 379.983 -> 379.98; 5.5 %: 2304.00 - 949.44 = 1354.56,
#   VAT 74.5008 -> 74.50
#   net 3799.83 + 1354.56 = 5154.39; VAT 379.98 + 74.50 = 454.48; gross 5608.87
#   works incl. VAT: 6463.20 + 646.32 + 2304.00 + 126.72 = 9540.24 -> retention 477.012 -> 477.01
#   due 5608.87 - 477.01 = 5131.86
SITUATION_1 = Figures("F-2026-0120",
                      {"10.00": (D("3799.83"), D("379.98")), "5.50": (D("1354.56"), D("74.50"))},
                      net=D("5154.39"), vat_total=D("454.48"), gross=D("5608.87"), amount_due=D("5131.86"),
                      retention=D("477.01"),
                      deducted={"10.00": D("2663.37"), "5.50": D("949.44"), "20.00": D("0.00")})

# Situation 2, F-2026-0131 of 2026-11-30: L1, L2, L4, L5 100 %, L3 70 %, L6 80 %, L7 20 %, L8 0 %
#   cumulative 10 %: 2850.00 + 3712.00 + 4632.00 x 70 % (3242.40) + 4620.00 x 80 % (3696.00)
#                    + 4410.00 x 20 % (882.00) = 14382.40; this situation 14382.40 - 6463.20 = 7919.20
#   cumulative 5.5 %: 4608.00 + 9310.00 = 13918.00 (complete); this situation 13918.00 - 2304.00 = 11614.00
#   deduction 10 %:  8333.96 x 14382.40 / 20224.00 = 5926.7379 -> 5926.74; 5926.74 - 2663.37 = 3263.37
#   deduction 5.5 %: works complete, the whole 5735.36; 5735.36 - 949.44 = 4785.92; 20 %: 0.00
#   bases 10 %: 7919.20 - 3263.37 = 4655.83, VAT 465.583 -> 465.58; 5.5 %: 11614.00 - 4785.92 = 6828.08,
#   VAT 375.5444 -> 375.54
#   net 4655.83 + 6828.08 = 11483.91; VAT 465.58 + 375.54 = 841.12; gross 12325.03
#   cumulative works incl. VAT: 14382.40 + 1438.24 + 13918.00 + 765.49 = 30504.13 -> 5 % = 1525.2065
#   -> 1525.21; retention 1525.21 - 477.01 = 1048.20 (5 % of this situation's 7919.20 + 791.92 + 11614.00
#   + 638.77 = 20963.89 alone would be 1048.1945 -> 1048.19: telescoping moves that cent here, so the
#   three situations withhold 5 % of the whole)
#   due 12325.03 - 1048.20 = 11276.83
SITUATION_2 = Figures("F-2026-0131",
                      {"10.00": (D("4655.83"), D("465.58")), "5.50": (D("6828.08"), D("375.54"))},
                      net=D("11483.91"), vat_total=D("841.12"), gross=D("12325.03"), amount_due=D("11276.83"),
                      retention=D("1048.20"),
                      deducted={"10.00": D("3263.37"), "5.50": D("4785.92"), "20.00": D("0.00")})

# Credit note A-2026-0011 of 2026-12-05 on situation 2: 20 m2 of painting billed but not done,
#   20 x 21.00 = 420.00 at 10 %, VAT 42.00, gross 462.00 (deducted from the next payment)
CREDIT_NOTE = Figures("A-2026-0011", {"10.00": (D("420.00"), D("42.00"))},
                      net=D("420.00"), vat_total=D("42.00"), gross=D("462.00"), amount_due=D("462.00"))

# Situation 3, F-2026-0140 of 2026-12-05: L3, L6 100 %, L7 90 %, L8 50 %, the rest 100 %
#   cumulative 10 %: 2850.00 + 3712.00 + 4632.00 + 4620.00 + 4410.00 x 90 % (3969.00) = 19783.00;
#                    this situation 19783.00 - 14382.40 = 5400.60
#   cumulative 20 %: 6400.00 x 50 % = 3200.00, all this situation; 5.5 %: nothing new
#   deduction 10 %: 8333.96 x 19783.00 / 20224.00 = 8152.2315 -> 8152.23; 8152.23 - 5926.74 = 2225.49
#   deduction 20 %: 2637.33 x 3200.00 / 6400.00 = 1318.665 -> 1318.67; 5.5 %: 5735.36 - 5735.36 = 0.00
#   bases 10 %: 5400.60 - 2225.49 = 3175.11, VAT 317.511 -> 317.51; 20 %: 3200.00 - 1318.67 = 1881.33,
#   VAT 376.266 -> 376.27
#   net 3175.11 + 1881.33 = 5056.44; VAT 317.51 + 376.27 = 693.78; gross 5750.22
#   cumulative works incl. VAT: 19783.00 + 1978.30 + 13918.00 + 765.49 + 3200.00 + 640.00 = 40284.79
#   -> 5 % = 2014.2395 -> 2014.24; retention 2014.24 - 1525.21 = 489.03 (= 5 % of this situation's
#   5400.60 + 540.06 + 3200.00 + 640.00 = 9780.66: 489.033 -> 489.03)
#   due 5750.22 - 489.03 = 5261.19
SITUATION_3 = Figures("F-2026-0140",
                      {"10.00": (D("3175.11"), D("317.51")), "20.00": (D("1881.33"), D("376.27"))},
                      net=D("5056.44"), vat_total=D("693.78"), gross=D("5750.22"), amount_due=D("5261.19"),
                      retention=D("489.03"),
                      deducted={"10.00": D("2225.49"), "5.50": D("0.00"), "20.00": D("1318.67")})

# Final invoice F-2026-0152 of 2026-12-05: the quote, minus every deposit and situation, plus the credit
# note (what it took off is billed again), per rate; VAT by difference, so none is billed twice.
#   billed 10 %:  8333.96 + 3799.83 + 4655.83 + 3175.11 - 420.00 = 19544.73,
#                 VAT 606.72 + 226.68 + 379.98 + 465.58 + 317.51 - 42.00 = 1954.47
#   billed 5.5 %: 5735.36 + 1354.56 + 6828.08 = 13918.00, VAT 229.65 + 85.80 + 74.50 + 375.54 = 765.49
#   billed 20 %:  2637.33 + 1881.33 = 4518.66, VAT 384.00 + 143.47 + 376.27 = 903.74
#   remaining 10 %:  20224.00 - 19544.73 = 679.27, VAT 2022.40 - 1954.47 = 67.93
#   remaining 5.5 %: 13918.00 - 13918.00 = 0.00, VAT 765.49 - 765.49 = 0.00 (the row stays: BR-S-08)
#   remaining 20 %:  6400.00 - 4518.66 = 1881.34, VAT 1280.00 - 903.74 = 376.26 (not 376.268 -> 376.27)
#   net 679.27 + 0.00 + 1881.34 = 2560.61; VAT 67.93 + 0.00 + 376.26 = 444.19; gross 3004.80, all due:
#   the 2014.24 retained by the situations is owed at its release date, not on this invoice
FINAL = Figures("F-2026-0152",
                {"10.00": (D("679.27"), D("67.93")), "5.50": (D("0.00"), D("0.00")),
                 "20.00": (D("1881.34"), D("376.26"))},
                net=D("2560.61"), vat_total=D("444.19"), gross=D("3004.80"), amount_due=D("3004.80"))

#: fixture name -> its figures, in the order of fixtures/cycle.json
CYCLE = {"deposit_invoice": DEPOSIT_1, "deposit_invoice_2": DEPOSIT_2, "progress_invoice_1": SITUATION_1,
         "progress_invoice_2": SITUATION_2, "credit_note_progress": CREDIT_NOTE,
         "progress_invoice_3": SITUATION_3, "final_invoice": FINAL}
BY_NUMBER = {f.number: f for f in CYCLE.values()}
