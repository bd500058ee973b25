"""Rebuild bundles/classic/1.8.0's HTML side (the designer guide's worked example) from
templates/classic/1.7.3: the same document.html, style.css and labels, plus the seller's mark
and a terracotta accent.

document.docx and assets/ (mark.svg, mark.png, fonts) are the designer's files: this script
never writes them. The DOCX gets the same mark and accent in Word or LibreOffice Writer, as
docs/templates.md ("A worked example: classic 1.8.0") shows step by step."""
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE, TARGET = ROOT / "templates" / "classic" / "1.7.3", ROOT / "bundles" / "classic" / "1.8.0"

for name in ("labels/fr.toml", "labels/en.toml"):
    shutil.copyfile(SOURCE / name, TARGET / name)
html = (SOURCE / "document.html").read_text()
name_div = '      <div class="seller-name">{{ s.name }}</div>'
assert html.count(name_div) == 1
html = html.replace(name_div,
                    '      <table class="brand"><tr><td class="mark"><img src="assets/mark.svg" alt=""></td>\n'
                    '        <td><div class="seller-name">{{ s.name }}</div></td></tr></table>')
(TARGET / "document.html").write_text(html)
css = (SOURCE / "style.css").read_text()
assert css.startswith("/* classic 1.7.3:")
css = css.replace("/* classic 1.7.3:", "/* classic 1.8.0: classic 1.7.3 with the seller's mark and a terracotta "
                  "accent.\n   classic 1.7.3:", 1)
css = css.replace("#0f3d5e", "#b4441b").rstrip("\n") + """

table.brand { width: auto; margin-bottom: 1mm; }
table.brand td.mark { width: 11mm; padding-right: 3mm; vertical-align: middle; }
table.brand td.mark img { width: 10mm; height: 10mm; }
table.brand .seller-name { margin: 0; }
"""
(TARGET / "style.css").write_text(css)
print("rebuilt", TARGET.relative_to(ROOT))
