"""What a training run prints: a tqdm bar (loss, accuracy, images/s) and
a log line every N steps (or only the log lines, with progress=False)."""


class Progress(object):
  """A tqdm bar (loss, accuracy, images/s) and a log line every N steps."""

  def __init__(self, config, start_step):
    self._every = max(1, config.log_every_n_steps)
    self._bar = None
    self._step = start_step
    if config.progress:
      import tqdm  # pylint: disable=g-import-not-at-top
      self._bar = tqdm.tqdm(total=config.max_steps, initial=start_step,
                            unit='step', dynamic_ncols=True)
    self._write('%s from step %d to %d' % (
        'resuming' if start_step else 'training', start_step,
        config.max_steps))

  def _write(self, line):
    if self._bar is not None:
      self._bar.write(line)
    else:
      print(line, flush=True)

  def update(self, step, loss, accuracy, images_per_second):
    if self._bar is not None:
      self._bar.update(step - self._step)
      self._bar.set_postfix(loss='%.4f' % loss, img_s='%.1f' %
                            images_per_second, refresh=False)
    if step // self._every > self._step // self._every:
      self._write('step %d loss %.4f accuracy %.3f images/s %.1f' % (
          step, loss, accuracy, images_per_second))
    self._step = step

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    if self._bar is not None:
      self._bar.close()
