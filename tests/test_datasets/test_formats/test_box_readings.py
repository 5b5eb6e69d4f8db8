"""The box readings (mmssl.datasets.formats.box_readings): SeqNet's, by hand."""
import numpy as np

from mmssl.datasets.formats import (cuhk_seqnet_boxes, prw_seqnet_boxes,
                                    prw_seqnet_query_boxes)

# stored [x, y, w, h]: negative and fractional, past the right edge, negative w
STORED = np.array([[-3.5, 2.7, 12.6, 30.2],
                   [1900.4, 1000.9, 40.3, 100.5],
                   [10.2, 5.0, -4.0, 20.0]])


def test_prw_gallery_reading_clips_each_value_then_adds_then_truncates():
    # x = max(-3.5, 0) = 0, x2 = 0 + 12.6 -> 12; y = 2.7 -> 2, y2 = 32.9 -> 32
    np.testing.assert_array_equal(prw_seqnet_boxes(STORED), [
        [0, 2, 12, 32],
        [1900, 1000, 1940, 1101],   # not clipped at any image edge
        [10, 5, 10, 25],            # w clipped to 0: an empty box, kept
    ])


def test_prw_query_reading_truncates_first_and_clips_after():
    # [-3.5, 2.7, 9.1, 32.9] -> truncated [-3, 2, 9, 32] -> clipped [0, 2, 9, 32]
    np.testing.assert_array_equal(prw_seqnet_query_boxes(STORED[:1]), [[0, 2, 9, 32]])
    np.testing.assert_array_equal(prw_seqnet_query_boxes([[5.9, 6.1, 10.5, 20.5]]),
                                  [[5, 6, 16, 26]])


def test_cuhk_reading_truncates_towards_zero_then_adds():
    # [-3, 2, 12, 30] -> [-3, 2, 9, 32]: nothing clipped
    np.testing.assert_array_equal(cuhk_seqnet_boxes(STORED), [
        [-3, 2, 9, 32], [1900, 1000, 1940, 1100], [10, 5, 6, 25]])
