"""The table of checkpoints: checkpoints/manifest.json, read and checked.

    spec = get_spec('resnet_v2_50')
    spec.num_classes, spec.label_offset, spec.preprocessing, spec.image_size
    # 1001, 1, 'inception', 299

Every fact about a checkpoint lives in that file, and nowhere in code.
"""
import dataclasses
import functools
import json
from typing import Optional, Tuple

from slim_resnet.checkpoints import assets
from slim_resnet.checkpoints import errors

PREPROCESSINGS = ('vgg', 'inception')
FORMATS = ('V1', 'V2')


@dataclasses.dataclass(frozen=True)
class CheckpointSpec(object):
  """One manifest entry.

  Attributes:
    name: The manifest key, e.g. 'resnet_v1_50'.
    model: The nets_factory name of the network it fits.
    num_classes: Logits size (1001 = background first).
    label_offset: 1 if logit 0 is 'background', else 0.
    labels: 'imagenet', or a label file name beside the checkpoint.
    image_size: Input height and width it was trained at.
    preprocessing: 'vgg' or 'inception'.
    format: 'V1' (single .ckpt file, the 2016/2017 archives) or 'V2'.
    url, sha256, checkpoint_file: Where to download the archive, its hash
      (None: unknown, not verified) and the checkpoint inside it.
    path: For a checkpoint shipped with the package: its prefix, relative to
      the checkpoints/ folder.
    top1, top5: Published ImageNet accuracies (%), if any.
    extras: Variables the checkpoint holds beyond the model's.
    model_options: Builder arguments, e.g. {'depth_multiplier': 0.125}.
    preprocessing_options: Extra preprocessing arguments.
    notes: What is uncertain, and where facts come from.
  """
  name: str
  model: str
  num_classes: int
  label_offset: int
  labels: str
  image_size: int
  preprocessing: str
  format: str
  url: Optional[str] = None
  sha256: Optional[str] = None
  checkpoint_file: Optional[str] = None
  path: Optional[str] = None
  top1: Optional[float] = None
  top5: Optional[float] = None
  extras: Tuple[str, ...] = ()
  model_options: dict = dataclasses.field(default_factory=dict)
  preprocessing_options: dict = dataclasses.field(default_factory=dict)
  notes: str = ''

  @property
  def logits_scope(self):
    return self.model + '/logits'

  @property
  def archive_name(self):
    return self.url.rsplit('/', 1)[-1] if self.url else None


_REQUIRED = {'model': str, 'num_classes': int, 'label_offset': int,
             'labels': str, 'image_size': int, 'preprocessing': str,
             'format': str}


def _check(name, entry):
  """Validates one raw entry; returns a CheckpointSpec."""
  problems = []
  for field, kind in _REQUIRED.items():
    if not isinstance(entry.get(field), kind):
      problems.append('%s must be a %s (got %r)' % (field, kind.__name__,
                                                    entry.get(field)))
  known = {f.name for f in dataclasses.fields(CheckpointSpec)}
  unknown = sorted(set(entry) - known)
  if unknown:
    problems.append('unknown fields %s' % ', '.join(unknown))
  if entry.get('preprocessing') not in PREPROCESSINGS:
    problems.append('preprocessing must be one of %s' % (PREPROCESSINGS,))
  if entry.get('format') not in FORMATS:
    problems.append('format must be one of %s' % (FORMATS,))
  if not entry.get('url') and not entry.get('path'):
    problems.append('needs a url (to download) or a path (shipped)')
  if entry.get('url') and not entry.get('checkpoint_file'):
    problems.append('a url needs checkpoint_file (the file in the archive)')
  sha = entry.get('sha256')
  if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
    problems.append('sha256 must be 64 hex digits or null')
  if problems:
    raise errors.ManifestError('manifest entry %r: %s' % (name,
                                                         '; '.join(problems)))
  fields = dict(entry, name=name)
  fields['extras'] = tuple(entry.get('extras', ()))
  return CheckpointSpec(**fields)


@functools.lru_cache(maxsize=None)
def _load(path):
  try:
    with open(path, encoding='utf-8') as f:
      raw = json.load(f)
  except json.JSONDecodeError as e:
    raise errors.ManifestError('%s is not valid JSON: %s' % (path, e)) from None
  if not isinstance(raw.get('checkpoints'), dict):
    raise errors.ManifestError('%s has no "checkpoints" object' % path)
  return {name: _check(name, entry)
          for name, entry in raw['checkpoints'].items()}


def load_manifest(path=None):
  """Dict name -> CheckpointSpec, from `path` or the shipped manifest.

  Raises:
    ManifestError: If the file is malformed; the message names the entry.
  """
  return dict(_load(str(path or assets.asset_path('manifest.json'))))


def list_specs(path=None):
  return list(load_manifest(path).values())


def get_spec(name, path=None):
  """The CheckpointSpec called `name`.

  Raises:
    ManifestError: If there is none; the message lists the known names.
  """
  specs = load_manifest(path)
  if name not in specs:
    raise errors.ManifestError('no checkpoint %r in the manifest; known: %s' %
                               (name, ', '.join(specs)))
  return specs[name]
