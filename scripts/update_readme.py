"""Regenerates the README's checkpoint table from checkpoints/manifest.json.

    python scripts/update_readme.py          # rewrite README.md in place
    python scripts/update_readme.py --check  # exit 1 if README.md is stale

The table sits between the markers <!-- manifest:begin --> and
<!-- manifest:end -->; tests/test_readme.py runs --check.
"""
import argparse
import os
import sys

BEGIN, END = '<!-- manifest:begin -->', '<!-- manifest:end -->'
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                      'README.md')


def manifest_table():
  from slim_resnet.checkpoints import manifest  # pylint: disable=g-import-not-at-top
  lines = ['| name | model | classes | input | preprocessing | top-1 / top-5 '
           '| source |', '|---|---|---|---|---|---|---|']
  for spec in manifest.list_specs():
    accuracy = '%.1f / %.1f' % (spec.top1, spec.top5) if spec.top1 else '-'
    source = ('shipped in `checkpoints/%s`' % os.path.dirname(spec.path)
              if spec.path else '[%s](%s)' % (spec.archive_name, spec.url))
    lines.append('| %s | %s | %d%s | %d | %s | %s | %s |' % (
        spec.name, spec.model, spec.num_classes,
        ' (background first)' if spec.label_offset else '', spec.image_size,
        spec.preprocessing, accuracy, source))
  return '\n'.join(lines)


def render(text):
  start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
  return text[:start] + '\n' + manifest_table() + '\n' + text[end:]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--check', action='store_true')
  args = parser.parse_args(argv)
  with open(README, encoding='utf-8') as f:
    text = f.read()
  new = render(text)
  if args.check:
    if new != text:
      print('README.md is stale: run python scripts/update_readme.py')
      return 1
    return 0
  with open(README + '.tmp', 'w', encoding='utf-8') as f:
    f.write(new)
  os.replace(README + '.tmp', README)
  return 0


if __name__ == '__main__':
  sys.exit(main())
