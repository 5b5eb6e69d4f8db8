"""draw_search_panel / crop_around_box / save_figure."""
import cv2
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from mmssl.visualization import crop_around_box, draw_search_panel, save_figure
from mmssl.visualization.search_panel import (CORRECT_COLOUR, QUERY_COLOUR,
                                              UNKNOWN_COLOUR, WRONG_COLOUR)


def scene(height=60, width=90, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), np.uint8)


def spine_colour(axis):
    return axis.spines['left'].get_edgecolor()


def test_panel_layout_titles_and_colours():
    figure = draw_search_panel(
        scene(), [10, 10, 30, 50], [scene(seed=1), scene(80, 40, 2)],
        np.array([[1, 1, 20, 40], [5, 5, 15, 25]]), [0.91234, 0.5],
        correct=[True, False], match_titles=['a.jpg', 'b.jpg'], title='q')
    axes = figure.axes
    assert len(axes) == 3
    assert axes[0].get_title() == 'query'
    assert axes[1].get_title() == 'rank 1  sim 0.912\na.jpg'
    assert axes[2].get_title() == 'rank 2  sim 0.500\nb.jpg'
    assert spine_colour(axes[0]) == to_rgba(QUERY_COLOUR)
    assert spine_colour(axes[1]) == to_rgba(CORRECT_COLOUR)
    assert spine_colour(axes[2]) == to_rgba(WRONG_COLOUR)
    # each cell shows its box
    rect = axes[2].patches[0]
    assert (rect.get_x(), rect.get_y(), rect.get_width(), rect.get_height()) == (5, 5, 10, 20)
    assert figure.get_suptitle() == 'q'
    # BGR input is shown as RGB
    shown = axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(shown), scene()[..., ::-1])


def test_unknown_ground_truth_and_custom_ranks():
    figure = draw_search_panel(scene(), [0, 0, 5, 5], [scene()], [[0, 0, 5, 5]], [0.3],
                               ranks=[7], channel_order='rgb')
    assert figure.axes[1].get_title() == 'rank 7  sim 0.300'
    assert figure.axes[1].patches[0].get_edgecolor() == to_rgba(UNKNOWN_COLOUR)
    np.testing.assert_array_equal(np.asarray(figure.axes[0].images[0].get_array()),
                                  scene())


def test_no_match_says_so():
    figure = draw_search_panel(scene(), [0, 0, 5, 5], [], np.zeros((0, 4)), [])
    assert len(figure.axes) == 2
    assert 'no gallery detection' in figure.axes[1].texts[0].get_text()


@pytest.mark.parametrize('kwargs, match', [
    (dict(similarities=[0.1, 0.2]), '2 similarities for 1 match images'),
    (dict(correct=[True, False]), '2 correct for 1'),
    (dict(channel_order='hsv'), "channel_order must be 'bgr' or 'rgb'"),
])
def test_errors(kwargs, match):
    args = dict(query_image=scene(), query_box=[0, 0, 5, 5], match_images=[scene()],
                match_boxes=[[0, 0, 5, 5]], similarities=[0.1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        draw_search_panel(**args)


def test_crop_around_box():
    image = scene(100, 200)
    crop, box = crop_around_box(image, [50, 40, 60, 60], 1.0)
    # 1 box size of margin: x 40..70, y 20..80
    assert crop.shape[:2] == (60, 30)
    np.testing.assert_array_equal(crop, image[20:80, 40:70])
    np.testing.assert_allclose(box, [10, 20, 20, 40])
    crop, box = crop_around_box(image, [0, 0, 10, 10], 2.0)  # clipped at the border
    assert crop.shape[:2] == (30, 30)
    same, box = crop_around_box(image, [1, 2, 3, 4], None)
    assert same is image and box.tolist() == [1, 2, 3, 4]


def green_and_red_pixels(image):
    b, g, r = (image[..., k].astype(int) for k in range(3))
    return (int(((g > 150) & (r < 60) & (b < 60)).sum()),
            int(((r > 180) & (g < 60) & (b < 60)).sum()))


@pytest.mark.parametrize('correct', [[True], [False]])
def test_save_figure_writes_a_png(tmp_path, correct):
    grey = np.full((60, 90, 3), 128, np.uint8)  # only the frames have colour
    figure = draw_search_panel(grey, [10, 10, 30, 50], [grey],
                               [[1, 1, 20, 40]], [0.9], correct=correct, context=0.5)
    path = save_figure(figure, str(tmp_path / 'sub' / 'panel.png'))
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 2000  # flat grey compresses
    image = cv2.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 200 and image.std() > 10
    green, red = green_and_red_pixels(image)
    if correct[0]:
        assert green > 500 and red < 50
    else:
        assert red > 500 and green < 50
