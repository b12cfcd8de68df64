"""One line to stderr when the library assumed or fixed something for you.

    notices.say('assumed image size 224 (research/slim's default) ...')

Used wherever a value was guessed by a documented convention (a background
class dropped, an image size assumed, an unverified download recorded), so
that the output says so. Each distinct message is said once per process.
"""
import sys

_SAID = set()


def say(message):
  """Prints 'slim-resnet: note: <message>' to stderr, once per message."""
  if message in _SAID:
    return
  _SAID.add(message)
  print('slim-resnet: note: %s' % message, file=sys.stderr, flush=True)
