"""mAP against hand-worked cases: IoU, VOC matching per threshold, all-point AP, ties, the streaming tally."""

import numpy as np
import pytest

from cosim.tasks.detection.ap import (
    IOU_THRESHOLDS,
    average_precision,
    box_iou,
    match_image,
    mean_ap,
    score_levels,
)
from cosim.tasks.detection.tally import DetectionTally


def test_iou_by_hand():
    a = np.array([[0, 0, 2, 2]])
    b = np.array([[1, 1, 3, 3], [2, 0, 4, 2], [0, 0, 2, 2], [0, 0, 1, 2]])
    # overlap 1 of union 7; touching edges; identical; half
    assert box_iou(a, b)[0] == pytest.approx([1 / 7, 0.0, 1.0, 0.5])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_ap_all_point_interpolation_by_hand():
    # 3 objects; ranked detections TP, FP, TP, FP, TP
    # precision 1, 1/2, 2/3, 2/4, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1; envelope 1, 2/3, 2/3, 3/5, 3/5
    # AP = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/5 = 34/45
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    tp = [True, False, True, False, True]
    assert average_precision(scores, tp, 3) == pytest.approx(34 / 45)
    # order of the input does not matter, only the scores
    assert average_precision(scores[::-1], tp[::-1], 3) == pytest.approx(34 / 45)


def test_ap_missed_objects_and_empty_cases():
    assert average_precision([0.9, 0.8], [True, True], 4) == pytest.approx(0.5)  # recall stops at 1/2
    assert average_precision([], [], 2) == 0.0  # objects but no detections
    assert np.isnan(average_precision([0.9], [False], 0))  # no objects: undefined, left out of the mean
    assert average_precision([0.9, 0.8, 0.7], [False, False, True], 1) == pytest.approx(1 / 3)


def test_tied_scores_form_one_point_whatever_their_order():
    # one object, two detections of equal score, one right: a single PR point (recall 1, precision 1/2)
    assert average_precision([0.7, 0.7], [True, False], 1) == pytest.approx(0.5)
    assert average_precision([0.7, 0.7], [False, True], 1) == pytest.approx(0.5)


def test_mean_ap_skips_classes_without_ground_truth():
    assert mean_ap(np.array([1.0, np.nan, 0.5])) == pytest.approx(0.75)
    assert mean_ap(np.array([np.nan])) is None


def test_voc_matching_per_threshold_by_hand():
    # one object (0,0)-(10,10); A covers 7/10 of it (IoU 0.7) with the higher score, B matches it exactly
    gt = np.array([[0, 0, 10, 10]])
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 7]])
    m = match_image(boxes, [0.8, 0.9], [0, 0], gt, [0], num_classes=1)
    assert m.levels.tolist() == [900, 800]  # descending score: A first
    t = np.array(IOU_THRESHOLDS)
    # up to 0.7 (inclusive) A takes the object and B is a duplicate; above it A misses and B takes it
    assert m.tp[0].tolist() == (t <= 0.7).tolist()
    assert m.tp[1].tolist() == (t > 0.7).tolist()
    tally = DetectionTally(1)
    tally.add(m)
    ap = tally.ap()[0]
    assert ap.tolist() == pytest.approx([1.0] * 5 + [0.5] * 5)  # rank 1 TP, or rank 2 TP (precision 1/2)
    assert tally.map50() == pytest.approx(1.0)
    assert tally.map50_95() == pytest.approx(0.75)


def test_matching_respects_classes_and_duplicates():
    gt = np.array([[0, 0, 4, 4], [10, 10, 14, 14]])
    gt_cls = [0, 1]
    boxes = np.array([[0, 0, 4, 4], [0, 0, 4, 4], [10, 10, 14, 14], [20, 20, 24, 24]])
    scores = [0.9, 0.8, 0.7, 0.6]
    classes = [0, 0, 0, 1]  # right; duplicate; wrong class on object 2; nothing there
    m = match_image(boxes, scores, classes, gt, gt_cls, num_classes=2)
    assert m.tp[:, 0].tolist() == [True, False, False, False]
    assert m.gt_per_class.tolist() == [1, 1]
    assert m.matched() == 1 and m.false_positives() == 3
    assert m.matched(0, min_level=950) == 0
    tally = DetectionTally(2)
    tally.add(m)
    # class 0: TP, FP, FP with 1 object -> AP 1; class 1: one FP, 1 object -> AP 0
    assert tally.ap()[:, 0] == pytest.approx([1.0, 0.0])
    assert tally.map50() == pytest.approx(0.5)


def test_two_images_pooled_per_class_by_hand():
    # class 0: image 1 has 2 objects, image 2 has 1. Detections over both images ranked by score:
    # 0.9 TP (img1), 0.8 FP (img2, off target), 0.6 TP (img2), 0.3 TP (img1)
    # precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1 -> AP = 1/3 + 1/3 * 3/4 + 1/3 * 3/4 = 5/6
    img1 = match_image([[0, 0, 4, 4], [20, 20, 26, 26]], [0.9, 0.3], [0, 0],
                       [[0, 0, 4, 4], [20, 20, 26, 26]], [0, 0], num_classes=1)
    img2 = match_image([[10, 0, 14, 4], [0, 10, 6, 16]], [0.8, 0.6], [0, 0],
                       [[0, 10, 6, 16]], [0], num_classes=1)
    tally = DetectionTally(1)
    tally.add(img1)
    tally.add(img2)
    assert tally.map50() == pytest.approx(5 / 6)
    assert tally.images == 2 and tally.gt.tolist() == [3]
    # lost images add objects nobody found: recall (and AP) shrink
    tally.add_ground_truth(np.array([1]))
    # ranks as before over 4 objects: precision 1, 1/2, 2/3, 3/4 at recall 1/4, 1/4, 2/4, 3/4
    assert tally.map50() == pytest.approx(1 / 4 + 1 / 4 * 3 / 4 + 1 / 4 * 3 / 4)


def test_streaming_tally_equals_the_list_computation():
    rng = np.random.default_rng(7)
    k = 3
    tally, parts = DetectionTally(k), DetectionTally(k)
    pooled = {c: ([], []) for c in range(k)}
    gt_total = np.zeros(k, dtype=np.int64)
    for i in range(60):
        g = rng.integers(0, 4)
        gt_xy = rng.uniform(0, 28, (g, 2))
        gt = np.column_stack([gt_xy, gt_xy + rng.uniform(3, 8, (g, 2))])
        gt_cls = rng.integers(0, k, g)
        d = rng.integers(0, 6)
        jitter = rng.normal(0, 1.0, (d, 4))
        src = gt[rng.integers(0, g, d)] if g else rng.uniform(0, 30, (d, 4))
        boxes = np.sort(src.reshape(-1, 2, 2), axis=1).reshape(-1, 4) + jitter
        scores = score_levels(rng.uniform(0, 1, d)) / 1000  # on the detector's grid, ties happen
        classes = np.where(rng.random(d) < 0.8, gt_cls[rng.integers(0, g, d)] if g else 0, rng.integers(0, k, d))
        m = match_image(boxes, scores, classes, gt, gt_cls, num_classes=k)
        (tally if i % 2 else parts).add(m)
        for c, lv, tp in zip(m.classes, m.levels, m.tp[:, 0]):
            pooled[c][0].append(lv / 1000)
            pooled[c][1].append(tp)
        gt_total += m.gt_per_class
    tally.merge(parts)  # tallies add
    expected = [average_precision(*pooled[c], int(gt_total[c])) for c in range(k)]
    assert tally.ap()[:, 0] == pytest.approx(expected, abs=1e-12)
    assert tally.map50() == pytest.approx(mean_ap(np.array(expected)), abs=1e-12)


def test_weighted_batch_update_equals_repeated_adds():
    a = match_image([[0, 0, 4, 4], [5, 5, 9, 9]], [0.9, 0.4], [0, 1], [[0, 0, 4, 4]], [0], num_classes=2)
    b = match_image([], [], [], [[1, 1, 5, 5]], [1], num_classes=2)
    one, many = DetectionTally(2), DetectionTally(2)
    for m, w in ((a, 3), (b, 2)):
        for _ in range(w):
            one.add(m)
    many.add_many([a, b, a], [2, 2, 1])
    many.add_many([b], [0])
    assert (one.det == many.det).all() and (one.tp == many.tp).all() and (one.gt == many.gt).all()
    assert one.images == many.images == 5
