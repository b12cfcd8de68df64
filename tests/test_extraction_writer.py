"""extraction: shards, index, resume and the single .npz, without a model."""
import json
import os

import numpy as np
import pytest

from slim_resnet.inference import extraction


def features(paths):
  n = len(paths)
  return {'a/block1': np.arange(n * 8, dtype=np.float32).reshape(n, 2, 2, 2),
          'global_pool': np.ones((n, 1, 1, 3), np.float32)}


def test_shards_index_and_resume(tmp_path):
  out = str(tmp_path / 'feats')
  keys = ['a/block1', 'global_pool']
  writer = extraction.ShardWriter(out, keys, pooling='avg')
  writer.write_shard(['x.png', 'y.png'], features(['x', 'y']),
                     [('bad.png', 'empty file')])
  with pytest.raises(extraction.ExtractionError, match='resume=True'):
    extraction.ShardWriter(out, keys, pooling='avg')
  with pytest.raises(extraction.ExtractionError, match='cannot resume'):
    extraction.ShardWriter(out, keys, pooling='max', resume=True)
  resumed = extraction.ShardWriter(out, keys, pooling='avg', resume=True)
  assert resumed.todo(['x.png', 'bad.png', 'z.png']) == ['z.png']
  resumed.write_shard(['z.png'], features(['z']), [])
  loaded = extraction.load_features(out)
  assert list(loaded['paths']) == ['x.png', 'y.png', 'z.png']
  assert loaded['a/block1'].shape == (3, 2)
  np.testing.assert_allclose(loaded['a/block1'][0], [3.0, 4.0])
  assert loaded['global_pool'].shape == (3, 3)
  assert loaded['failed'] == {'bad.png': 'empty file'}
  index = json.load(open(os.path.join(out, 'index.json')))
  assert [s['count'] for s in index['shards']] == [2, 1]
  assert not [f for f in os.listdir(out) if '.tmp' in f]


def test_pool():
  value = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
  np.testing.assert_array_equal(extraction.pool(value, 'max'), [[6, 7]])
  np.testing.assert_array_equal(extraction.pool(value, None), value)
  flat = np.zeros((1, 5))
  assert extraction.pool(flat, 'avg') is flat
  with pytest.raises(extraction.ExtractionError, match='pooling must be'):
    extraction.ShardWriter('unused', ['k'], pooling='mean')
