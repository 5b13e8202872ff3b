"""Target tracking's decisions (scaling.decide), without a simulator."""
from simulator import scaling, timescale

COOLDOWN = timescale.scaled(scaling.SCALE_IN_COOLDOWN)


def test_scale_out_needs_three_datapoints_above_the_target():
    assert scaling.decide([900, 900], 600, 2, 2, 6, False, None) is None
    assert scaling.decide([900, 500, 900], 600, 2, 2, 6, False, None) is None
    assert scaling.decide([700, 800, 900], 600, 2, 2, 6, False, None) == 3          # ceil(2 x 900 / 600)
    assert scaling.decide([601, 601, 601], 600, 2, 2, 6, False, None) == 3          # at least one more


def test_scale_out_goes_at_once_but_never_above_max():
    assert scaling.decide([3000] * 3, 600, 2, 2, 6, False, None) == 6
    assert scaling.decide([3000] * 3, 600, 6, 2, 6, False, None) is None            # already at max
    assert scaling.decide([3000] * 3, 600, 2, 2, 6, False, 0.0) == 6                # no cooldown on scale out


def test_scale_in_needs_fifteen_datapoints_below_ninety_percent():
    low = [100] * (scaling.SCALE_IN_POINTS - 1)
    assert scaling.decide(low, 600, 4, 2, 6, False, None) is None
    assert scaling.decide(low + [100], 600, 4, 2, 6, False, None) == 2              # ceil(4 x 100 / 600) = 1, min 2
    assert scaling.decide(low + [550], 600, 4, 2, 6, False, None) is None           # 550 is not below 540
    assert scaling.decide([300] * scaling.SCALE_IN_POINTS, 600, 6, 2, 6, False, None) == 3


def test_scale_in_waits_for_the_cooldown_and_respects_disable_scale_in():
    low = [0] * scaling.SCALE_IN_POINTS
    assert scaling.decide(low, 600, 4, 1, 6, False, COOLDOWN / 2) is None
    assert scaling.decide(low, 600, 4, 1, 6, False, COOLDOWN) == 1
    assert scaling.decide(low, 600, 4, 1, 6, True, None) is None
    assert scaling.decide(low, 600, 1, 1, 6, False, None) is None                   # already at min


def test_nothing_without_a_target_or_capacity():
    assert scaling.decide([900] * 3, 0, 2, 2, 6, False, None) is None
    assert scaling.decide([900] * 3, 600, 0, 0, 6, False, None) is None
