"""Regenerate fixtures/invoice.json and fixtures/credit_note.json (run once, commit the JSON).

The story: Atelier Durand Rénovation (SARL, Lyon) renovates the Bellevue residence's
bathroom for SCI Les Tilleuls. The SIRENs are invented but carry valid Luhn keys.
"""
import json
from pathlib import Path

SELLER = {
    "name": "Atelier Durand Rénovation",
    "legal_form": "SARL", "share_capital": "20000.00",
    "siren": "912345675", "siret": "91234567500017", "vat_id": "FR65912345675",
    "registration": "RCS Lyon", "email": "facturation@durand-renovation.fr", "phone": "04 78 12 34 56",
    "address": {"lines": ["14 rue des Tanneurs"], "postcode": "69007", "city": "Lyon", "country": "FR"},
}
BUYER = {
    "name": "SCI Les Tilleuls",
    "siren": "845123983", "vat_id": "FR26845123983",
    "address": {"lines": ["Résidence Bellevue", "3 avenue Jean Jaurès"], "postcode": "69100",
                "city": "Villeurbanne", "country": "FR"},
    "delivery_address": {"lines": ["Chantier Bellevue, bâtiment B", "7 rue Francis de Pressensé"],
                         "postcode": "69100", "city": "Villeurbanne", "country": "FR"},
}
PAYMENT = {"terms_days": 30, "means": "transfer", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
           "late_penalty_rate": "12.00"}

# (description, quantity, unit, unit price, VAT rate, discount)
WORKS = [
    ("Dépose de l'ancienne baignoire et évacuation en déchetterie", "1", "C62", "380.00", "10", None),
    ("Dépose du carrelage mural existant", "18.5", "MTK", "22.00", "10", None),
    ("Ragréage du sol, préparation du support", "7.2", "MTK", "31.50", "10", None),
    ("Receveur de douche extra-plat 90 × 120 cm, blanc mat", "1", "C62", "489.00", "10", {"percent": "10"}),
    ("Paroi de douche fixe verre 8 mm, profilé noir", "1", "C62", "612.40", "10", {"percent": "10"}),
    ("Mitigeur thermostatique encastré avec colonne", "1", "C62", "745.00", "10", None),
    ("Meuble vasque 80 cm, chêne clair, deux tiroirs", "1", "C62", "980.00", "10", {"amount": "80.00"}),
    ("Miroir rétroéclairé LED 80 × 70 cm", "1", "C62", "265.00", "10", None),
    ("WC suspendu avec bâti-support et plaque de commande", "1", "C62", "690.00", "10", None),
    ("Radiateur sèche-serviettes 750 W", "1", "C62", "430.00", "10", None),
    ("Carrelage grès cérame 60 × 60, sol", "8", "MTK", "54.90", "10", None),
    ("Faïence murale 30 × 90, pose droite", "22", "MTK", "48.60", "10", None),
    ("Pose du carrelage au sol, joints époxy", "8", "MTK", "45.00", "10", None),
    ("Pose de la faïence murale", "22", "MTK", "42.00", "10", None),
    ("Étanchéité sous carrelage (système SPEC)", "9.5", "MTK", "38.00", "10", None),
    ("Plomberie : alimentation et évacuations en PER et PVC", "1", "C62", "720.00", "10", None),
    ("Électricité salle d'eau : mise aux normes NF C 15-100", "1", "C62", "840.00", "10", None),
    ("Spots encastrés IP65, fourniture et pose", "6", "C62", "58.00", "10", None),
    ("Peinture plafond, deux couches, finition satinée", "7.2", "MTK", "24.00", "10", None),
    ("Main-d'œuvre plombier", "16", "HUR", "52.00", "10", None),
    ("Main-d'œuvre carreleur", "24", "HUR", "48.00", "10", None),
    ("Main-d'œuvre électricien", "6", "HUR", "55.00", "10", None),
    ("Isolation des combles, laine soufflée 30 cm (travaux d'économie d'énergie)", "42", "MTK", "28.00", "5.5", None),
    ("Fenêtre de toit isolante 78 × 98, fourniture et pose", "1", "C62", "1150.00", "5.5", None),
    ("Ventilation mécanique hygroréglable type B", "1", "C62", "890.00", "5.5", {"percent": "5"}),
    ("Location d'une benne 8 m³, trois jours", "3", "DAY", "95.00", "20", None),
    ("Protection des parties communes (film, cartons)", "1", "C62", "120.00", "20", None),
    ("Nettoyage de fin de chantier", "4", "HUR", "38.00", "20", None),
    ("Frais de déplacement", "12", "C62", "18.00", "20", None),
    ("Accessoires de salle de bains : porte-serviettes, patères", "1", "SET", "149.90", "20", None),
    ("Rideau de douche anti-moisissure (option client)", "1", "C62", "39.90", "20", None),
    ("Joint silicone sanitaire, reprise après réception", "1", "C62", "65.00", "10", None),
    ("Trappe de visite carrelable 30 × 30", "1", "C62", "84.00", "10", None),
    ("Siphon de sol inox, grille 15 × 15", "1", "C62", "126.50", "10", None),
    ("Plinthes carrelées assorties", "11.4", "MTR", "18.00", "10", None),
    ("Barre d'appui PMR 60 cm (aménagement accessibilité)", "2", "C62", "79.00", "10", None),
    ("Siège de douche rabattable", "1", "C62", "189.00", "10", None),
    ("Reprise des enduits sur cloison", "5.6", "MTK", "32.00", "10", None),
    ("Porte de salle de bains, bloc-porte 73 cm", "1", "C62", "310.00", "10", {"percent": "15"}),
    ("Poignée et condamnation décondamnation", "1", "C62", "48.00", "10", None),
    ("Évacuation des gravats complémentaires", "0.5", "TNE", "160.00", "20", None),
    ("Diagnostic amiante avant travaux (refacturation)", "1", "C62", "290.00", "20", None),
    ("Coordination de chantier", "5", "HUR", "60.00", "20", None),
    ("Dossier des ouvrages exécutés (DOE)", "1", "C62", "150.00", "20", None),
    ("Remise commerciale fidélité sur les fournitures", "-1", "C62", "120.00", "20", None),
]


def line(i, d, q, u, p, r, disc):
    out = {"id": f"L{i}", "description": d, "quantity": q, "unit": u, "unit_price": p, "vat_rate": r}
    if disc:
        out["discount"] = disc
    return out


invoice = {
    "type": "invoice", "number": "F-2026-0125", "issue_date": "2026-11-20", "delivery_date": "2026-11-13",
    "currency": "EUR", "language": "fr", "template": {"name": "classic", "version": "1.0.0"},
    "formats": ["pdf", "docx"], "seller": SELLER, "buyer": BUYER, "operation": "mixed",
    "order_reference": "BC-2026-118", "buyer_reference": "Bellevue bât. B",
    "lines": [line(i, *w) for i, w in enumerate(WORKS, start=1)],
    "payment": PAYMENT,
    "payments": [{"date": "2026-11-20", "amount": "2000.00", "means": "transfer", "reference": "VIR-88412"}],
    "notes": ["Travaux réalisés du 2 au 13 novembre 2026 selon devis D-2026-0098 accepté le 15/10/2026.",
              "TVA à 10 % et 5,5 % : attestation simplifiée de travaux dans un logement de plus de deux ans "
              "remise par le client."],
}
credit = {
    "type": "credit_note", "number": "A-2026-0007", "issue_date": "2026-11-27",
    "currency": "EUR", "language": "fr", "template": {"name": "classic", "version": "1.0.0"},
    "formats": ["pdf", "docx"], "seller": SELLER, "buyer": BUYER, "operation": "mixed",
    "corrects": {"number": "F-2026-0125", "issue_date": "2026-11-20"},
    "lines": [
        line(1, "Paroi de douche fixe : remplacement par le modèle 8 mm sans profilé (écart de prix)",
             "1", "C62", "85.00", "10", None),
        line(2, "Frais de déplacement facturés en double", "4", "C62", "18.00", "20", None),
        line(3, "Rideau de douche non fourni", "1", "C62", "39.90", "20", None),
    ],
    "payment": {"terms_days": 0, "means": "transfer", "late_penalty_rate": "12.00"},
    "settlement": {"method": "refund", "means": "transfer", "date": "2026-12-04"},
    "notes": ["Suite à votre réclamation du 24/11/2026."],
}
root = Path(__file__).resolve().parent.parent / "fixtures"
root.mkdir(exist_ok=True)
for name, payload in (("invoice", invoice), ("credit_note", credit)):
    (root / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
print("wrote", ", ".join(sorted(p.name for p in root.glob("*.json"))))
