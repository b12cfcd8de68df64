"""What a checkpoint needs to run: model, classes, preprocessing, labels.

    spec = resolve_model('resnet_v2_50')        # a manifest name (downloads)
    spec = resolve_model(None)                  # the shipped digits checkpoint
    spec = resolve_model('/ckpts/model.ckpt-1000', model='resnet_v1_50',
                         num_classes=5)

A manifest entry supplies every field; so does a model_spec.json beside a
checkpoint, the one file in which every checkpoint and export describes
itself (the shipped checkpoint's folder, train.train and export write one;
its optional "provenance" object records how it was made and is not read
here); otherwise the checkpoint's own variables tell the model, depth
multiplier and num_classes when not given (checkpoints.inspect_checkpoint),
the preprocessing defaults to research/slim's choice for the model, and a
labels.txt beside the checkpoint names the classes.
"""
import dataclasses
import json
import os
from typing import Optional

from slim_resnet import files
from slim_resnet import notices
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import fetch
from slim_resnet.checkpoints import inspect_checkpoint
from slim_resnet.checkpoints import labels as labels_lib
from slim_resnet.checkpoints import manifest as manifest_lib

SHIPPED = 'digits_resnet_v1_18'
# Written beside the checkpoints of a training directory (train.train,
# export): how to build and feed them, so a path alone is enough later.
SPEC_FILE = 'model_spec.json'
SPEC_LABELS_FILE = 'labels.txt'
PROVENANCE = 'provenance'
_SPEC_FIELDS = ('model', 'num_classes', 'image_size', 'preprocessing',
                'preprocessing_options', 'model_options', 'label_offset')


@dataclasses.dataclass(frozen=True)
class ModelSpec(object):
  """How to build the network a checkpoint fits, and how to feed it.

  Attributes:
    checkpoint_path: The local checkpoint prefix (V1 file or V2 prefix).
    model: A nets_factory name, e.g. 'resnet_v1_50'.
    num_classes: Logits size (0 or None: no logits).
    image_size: Network input height and width.
    preprocessing: 'vgg' or 'inception'.
    preprocessing_options: Extra keyword arguments of the preprocessing fn.
    model_options: Extra builder arguments, e.g. {'depth_multiplier': 0.125}.
    label_offset: 1 when class 0 is 'background' (the v2 checkpoints).
    labels_source: 'imagenet', or a path to a file with one label per line.
    name: The manifest name, if any.
    assumed: Fields not known from the checkpoint (no manifest entry, no
      model_spec.json) nor given, filled with research/slim's defaults for
      the model: ('image_size', 'preprocessing') for a bare checkpoint.
      Whatever uses them says so once (note_assumptions).
  """
  checkpoint_path: str
  model: str
  num_classes: Optional[int]
  image_size: int
  preprocessing: str
  preprocessing_options: dict = dataclasses.field(default_factory=dict)
  model_options: dict = dataclasses.field(default_factory=dict)
  label_offset: int = 0
  labels_source: Optional[str] = None
  name: Optional[str] = None
  assumed: tuple = ()

  @property
  def scope(self):
    return self.model

  @property
  def checkpoint_background(self):
    """Whether the manifest says class 0 of the checkpoint is background;
    None for other checkpoints (the restorer reads their own metadata)."""
    return bool(self.label_offset) if self.name else None

  def note_assumptions(self):
    """Says on stderr (once) which fields were assumed, and how to fix them."""
    if self.labels_source and not self.name and self.assumed:
      notices.say('%s: class names from %s (one a line, in logit order)' % (
          self.checkpoint_path, self.labels_source))
    if not self.assumed:
      return
    values = {'image_size': 'image size %d' % self.image_size,
              'preprocessing': '%s preprocessing' % self.preprocessing}
    notices.say(
        '%s has no model_spec.json and no manifest entry: assumed %s '
        "(research/slim's defaults for %s); if it was trained otherwise, "
        'pass %s' % (self.checkpoint_path,
                     ' and '.join(values[f] for f in self.assumed), self.model,
                     ' / '.join('--%s (%s=)' % (f.replace('_', '-'), f)
                                for f in self.assumed) +
                     (' and --preprocessing-option KEY=VALUE' if
                      'preprocessing' in self.assumed else '')))

  def preprocessing_fn(self, is_training=False, **options):
    """fn(image [height, width, channels]) -> float32 [image_size,
    image_size, 3]: the checkpoint's preprocessing with its options
    (preprocessing_options, updated by **options)."""
    self.note_assumptions()
    from slim_resnet.preprocessing import preprocessing_factory  # pylint: disable=g-import-not-at-top
    fn = preprocessing_factory.get_preprocessing(self.preprocessing,
                                                 is_training=is_training)
    options = dict(self.preprocessing_options, **options)
    size = self.image_size
    return lambda image: fn(image, size, size, **options)

  def labels(self):
    """One label per logit (num_classes of them)."""
    if self.labels_source == 'imagenet':
      return labels_lib.imagenet_labels(self.num_classes)
    if self.labels_source:
      with open(self.labels_source, encoding='utf-8') as f:
        names = [line.rstrip('\n') for line in f if line.strip()]
      names = _slim_label_lines(names, self.labels_source)
      if len(names) == self.num_classes:
        return names
      raise errors.CheckpointError(
          '%s has %d labels but the model has %s classes' % (
              self.labels_source, len(names), self.num_classes))
    return ['class_%d' % i for i in range(self.num_classes or 0)]


def _slim_label_lines(names, path):
  """research/slim's 'id:name' lines in id order (ids 0..n-1, any order in
  the file), or the lines as they are when they are not all of that form.

  Raises:
    errors.CheckpointError: 'id:name' lines whose ids are not 0..n-1.
  """
  pairs = [name.split(':', 1) for name in names]
  if not names or not all(len(p) == 2 and p[0].strip().isdigit()
                          for p in pairs):
    return names
  by_id = {int(i): name for i, name in pairs}
  if sorted(by_id) != list(range(len(names))):
    raise errors.CheckpointError(
        "%s has research/slim's 'id:name' lines, but their ids are %s, not "
        '0..%d: one line a class, numbered from 0' % (
            path, ', '.join(str(i) for i in sorted(by_id)[:12]),
            len(names) - 1))
  return [by_id[i] for i in range(len(names))]


def write_model_spec(spec, directory, class_names=None, provenance=None):
  """Writes directory/model_spec.json (and labels.txt), atomically.

  Args:
    spec: A ModelSpec (its checkpoint path is not written).
    directory: Where the checkpoints are or will be.
    class_names: One name per logit; spec.labels() when None.
    provenance: An optional JSON-able dict of how the checkpoint was made
      (data set, steps, held-out accuracy, ...); read_provenance returns it.

  Returns:
    The path of model_spec.json.
  """
  os.makedirs(directory, exist_ok=True)
  names = list(class_names) if class_names is not None else spec.labels()
  fields = {f: getattr(spec, f) for f in _SPEC_FIELDS}
  fields['labels'] = SPEC_LABELS_FILE if names else None
  if provenance:
    fields[PROVENANCE] = dict(provenance)
  path = os.path.join(directory, SPEC_FILE)
  if names:
    files.atomic_write_text(os.path.join(directory, SPEC_LABELS_FILE),
                            ''.join('%s\n' % name for name in names))
  files.atomic_write_text(path, json.dumps(fields, indent=2, sort_keys=True))
  return path


def _folder_of(checkpoint_path):
  """The folder a checkpoint (a folder itself, or a prefix) sits in."""
  return (checkpoint_path if os.path.isdir(checkpoint_path) else
          os.path.dirname(checkpoint_path))


def _spec_json(checkpoint_path):
  """(directory, the parsed model_spec.json beside checkpoint_path or {})."""
  directory = _folder_of(checkpoint_path)
  path = os.path.join(directory, SPEC_FILE)
  if not os.path.isfile(path):
    return directory, {}
  try:
    with open(path, encoding='utf-8') as f:
      return directory, json.load(f)
  except ValueError as e:
    raise errors.CheckpointError('%s is not valid JSON: %s' % (path, e)) \
        from None


def read_provenance(checkpoint_path):
  """The "provenance" object of the model_spec.json beside a checkpoint
  (how it was made: data, steps, held-out accuracy), or {}."""
  return _spec_json(checkpoint_path)[1].get(PROVENANCE) or {}


def read_model_spec(checkpoint_path):
  """The ModelSpec fields in model_spec.json beside a checkpoint, or {}."""
  directory, fields = _spec_json(checkpoint_path)
  if not fields:
    return {}
  path = os.path.join(directory, SPEC_FILE)
  fields.pop(PROVENANCE, None)
  labels = fields.pop('labels', None)
  unknown = sorted(set(fields) - set(_SPEC_FIELDS))
  if unknown:
    raise errors.CheckpointError('%s has unknown fields %s; expected %s' % (
        path, ', '.join(unknown), ', '.join(_SPEC_FIELDS)))
  if labels:
    fields['labels_source'] = os.path.join(directory, labels)
  return fields


def _from_manifest(entry, download=True, **overrides):
  path = (fetch.fetch_checkpoint(entry.name) if download or entry.path
          else None)
  labels_source = entry.labels
  if labels_source and labels_source != 'imagenet':
    labels_source = (os.path.join(os.path.dirname(path), labels_source)
                     if path else None)
  fields = dict(
      checkpoint_path=path, model=entry.model, num_classes=entry.num_classes,
      image_size=entry.image_size, preprocessing=entry.preprocessing,
      preprocessing_options=dict(entry.preprocessing_options),
      model_options=dict(entry.model_options), label_offset=entry.label_offset,
      labels_source=labels_source, name=entry.name)
  fields.update(overrides)
  return ModelSpec(**fields)


def resolve_model(checkpoint=None, download=True, **overrides):
  """The ModelSpec of a checkpoint given by manifest name, path, or None.

  See _resolve_model for the arguments. Raises UsageError (before any graph
  is built) for preprocessing options given here that its preprocessing
  would refuse.
  """
  spec = _resolve_model(checkpoint, download, **overrides)
  if overrides.get('preprocessing_options'):
    from slim_resnet.preprocessing import preprocessing_factory  # pylint: disable=g-import-not-at-top
    preprocessing_factory.check_options(spec.preprocessing, spec.image_size,
                                        spec.preprocessing_options)
  return spec


def _resolve_model(checkpoint=None, download=True, **overrides):
  """The ModelSpec of a checkpoint given by manifest name, path, or None.

  Args:
    checkpoint: A manifest name, a URL or local path that
      fetch.fetch_checkpoint accepts, or None for the shipped checkpoint.
    download: False: a manifest name that would be downloaded is described
      from the manifest alone (checkpoint_path None; no labels file), for
      what needs only the model (its end_points, its graph).
    **overrides: ModelSpec fields that replace what the manifest or the
      checkpoint says (e.g. model, num_classes, image_size, preprocessing).

  Returns:
    A ModelSpec.

  Raises:
    errors.CheckpointError: If the checkpoint cannot be found, or the model
      cannot be told from its variables and `model` was not given.
  """
  name = SHIPPED if checkpoint is None else checkpoint
  entries = manifest_lib.load_manifest()
  if name in entries:
    return _from_manifest(entries[name], download, **overrides)
  path = fetch.fetch_checkpoint(checkpoint)
  beside = read_model_spec(path)
  if beside:
    fields = dict(beside, checkpoint_path=path)
    fields.update(overrides)
    return ModelSpec(**fields)
  found = inspect_checkpoint.describe_checkpoint(path)
  model = overrides.pop('model', None) or found.model
  if not model:
    raise errors.CheckpointError(
        'cannot tell which model %s holds (%s); pass model=...' % (
            path, found.reason or 'no ResNet variables found'))
  model_options = {}
  if found.model == model and found.depth_multiplier not in (None, 1):
    model_options['depth_multiplier'] = found.depth_multiplier
  fields = dict(
      checkpoint_path=path,
      num_classes=found.num_classes if found.model == model else None,
      model_options=model_options,
      labels_source=_labels_beside(path),
      assumed=tuple(f for f in ('image_size', 'preprocessing')
                    if f not in overrides))
  fields.update(overrides)
  return spec_for_model(model, **fields)


def _labels_beside(checkpoint_path):
  """labels.txt in a bare checkpoint's folder, or None."""
  path = os.path.join(_folder_of(checkpoint_path), SPEC_LABELS_FILE)
  return path if os.path.isfile(path) else None


def spec_for_model(model, **fields):
  """A ModelSpec for a nets_factory model with research/slim's defaults
  (the model's default image size and preprocessing, no checkpoint, no
  logits); `fields` override them.

  Raises:
    nets_factory.UnknownNetworkError: For an unknown model.
  """
  from slim_resnet import nets_factory  # pylint: disable=g-import-not-at-top
  from slim_resnet.preprocessing import preprocessing_factory  # pylint: disable=g-import-not-at-top
  defaults = dict(checkpoint_path=None, model=model, num_classes=None,
                  image_size=nets_factory.get_network(model).default_image_size,
                  preprocessing=preprocessing_factory.preprocessing_name(model))
  defaults.update(fields)
  return ModelSpec(**defaults)
