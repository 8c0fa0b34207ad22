# SPDX-License-Identifier: LGPL-2.1-or-later
"""The README's examples run and succeed against a fresh daemon.

The examples are the ```sh and ```python blocks between
<!-- examples:begin --> and <!-- examples:end --> in README.md; while
README.md has no such section, or the section holds no code block yet,
tests/integration/README-examples.md (the text meant for it) is used.  Each block runs with DBUS_SESSION_BUS_ADDRESS
pointing at the private bus and must exit with status 0 and print
something.
"""

import os
import re
import subprocess
import sys
import unittest

import harness as h

BEGIN, END = "<!-- examples:begin -->", "<!-- examples:end -->"


def example_blocks(text):
    m = re.search(re.escape(BEGIN) + r"(.*?)" + re.escape(END), text, re.S)
    if not m:
        return None
    return re.findall(r"^```(sh|python)[ \t]*\n(.*?)^```[ \t]*$", m.group(1), re.S | re.M)


def find_examples():
    readme = h.REPO_ROOT / "README.md"
    if readme.is_file():
        blocks = example_blocks(readme.read_text())
        if blocks:
            return readme, blocks
    fallback = h.HERE / "README-examples.md"
    print(f"note: {readme} has no examples between {BEGIN} and {END}; "
          f"running {fallback.name}")
    return fallback, example_blocks(fallback.read_text())


class TestExamples(h.DaemonTestCase):

    collect_signals = False

    def test_examples(self):
        source, blocks = find_examples()
        self.assertIsNotNone(blocks, f"{source} has no examples section")
        kinds = [k for k, _ in blocks]
        self.assertIn("sh", kinds, f"{source}: no sh example")
        self.assertIn("python", kinds, f"{source}: no python example")
        env = dict(os.environ)
        env["DBUS_SESSION_BUS_ADDRESS"] = self.private_bus.address
        env.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        for i, (kind, code) in enumerate(blocks, 1):
            with self.subTest(example=i, kind=kind, first_line=code.strip().splitlines()[0]):
                if kind == "sh":
                    cmd = ["bash", "-e", "-o", "pipefail", "-c", code]
                else:
                    cmd = [sys.executable, "-c", code]
                res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
                self.assertEqual(res.returncode, 0,
                                 f"{source.name} example {i} ({kind}) failed:\n{code}\n"
                                 f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}")
                self.assertNotEqual(res.stdout.strip(), "", f"example {i} printed nothing")
        self.assertDaemonAlive()
        self.assertEqual(self.state(h.TEST_PATH)[0], h.STATE_RUNNING)


if __name__ == "__main__":
    unittest.main(verbosity=2)
