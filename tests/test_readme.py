"""The README's checkpoint table is the manifest's, and its commands exist."""
import os
import re
import runpy

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def test_checkpoint_table_is_generated_from_the_manifest():
  script = runpy.run_path(os.path.join(ROOT, 'scripts', 'update_readme.py'))
  assert script['main'](['--check']) == 0


def test_quick_start_has_two_commands_and_ci_runs_the_second():
  readme = open(os.path.join(ROOT, 'README.md')).read()
  quick = readme.split('## Quick start', 1)[1].split('\n## ', 1)[0]
  commands = re.findall(r'```sh\n(.*?)\n```', quick, re.S)
  assert len(commands) == 2
  assert 'slim-resnet classify' in commands[0]
  ci = open(os.path.join(ROOT, '.ci', 'run')).read()
  assert commands[1] in ci
