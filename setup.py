"""The wheel carries the shipped template bundles and the payload fixtures inside the
package (docsvc/shipped/), so an installed docsvc finds them wherever it runs; the source
tree keeps them at the top level, where designers and tests use them."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("templates", "fixtures")


class BuildWithShipped(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the source tree
        for name in SHIPPED:
            target = Path(self.build_lib) / "docsvc" / "shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", ".*"))


setup(cmdclass={"build_py": BuildWithShipped})
