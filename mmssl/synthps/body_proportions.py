"""The proportions of a SynthPS person, as fractions of its canonical height.

Heights (``_Y``) are measured down from the top of the head, positions and half
widths across from the body axis; the values marked "times build" are scaled by
the appearance's body width factor; ``_PX`` values are pixels.
:func:`mmssl.synthps.person_labels.draw_person_labels` draws with them.
"""

# ------------------------------------------------------------------ canvas
#: Empty border around the person, on every side.
MARGIN = 0.08
#: Canvas width between the margins, times ``max(build, 1)``.
CANVAS_WIDTH = 0.75

# ------------------------------------------- heights, down from the head's top
HEAD_CENTRE_Y = 0.068
NECK_TOP_Y, NECK_BOTTOM_Y = 0.1, 0.175
SHOULDER_TOP_Y = 0.165   # the torso's top edge
SHOULDER_Y = 0.2         # the torso's outer shoulder corners
ARM_ROOT_Y = 0.195
WAIST_Y = 0.42
WAISTBAND_Y = 0.45       # top of the pelvis (and of a skirt)
HIP_Y = 0.5              # bottom of the torso, roots of the legs
CROTCH_Y = 0.545         # bottom of the pelvis
SKIRT_HEM_Y = 0.68

# ----------------------------------------- half widths, times the build
SHOULDER_HALF_WIDTH = 0.105
WAIST_HALF_WIDTH = 0.085
HIP_HALF_WIDTH = 0.078
LEG_ROOT_OFFSET = 0.045  # from the axis to each hip joint
#: The torso's top corners lie this far inside the shoulders (not times build).
SHOULDER_SLOPE_INSET = 0.01
#: The pelvis widens by this much towards the crotch (not times build).
PELVIS_FLARE = 0.005
#: A skirt widens by this much towards its hem (not times build).
SKIRT_FLARE = 0.05

# ----------------------------------------------------------------- legs
THIGH_LENGTH, SHIN_LENGTH = 0.25, 0.215
THIGH_WIDTH, KNEE_WIDTH, ANKLE_WIDTH = 0.068, 0.052, 0.04  # times build
#: Share of the thigh that shorts cover.
SHORTS_SHARE = 0.6
#: Foot ellipse: centre offset from the ankle (outwards, down) and half axes.
FOOT_OFFSET = (0.012, 0.022)
FOOT_HALF_AXES = (0.034, 0.02)

# ----------------------------------------------------------------- arms
#: The shoulder joint lies this far inside the shoulder corner (not times build).
ARM_ROOT_INSET = 0.018
UPPER_ARM_LENGTH, FOREARM_LENGTH = 0.165, 0.15
UPPER_ARM_WIDTH, ELBOW_WIDTH, WRIST_WIDTH = 0.048, 0.04, 0.032  # times build
#: The forearm spreads by this share of the upper arm's angle.
FOREARM_SPREAD = 0.6
#: Share of the upper arm that a short sleeve covers.
SHORT_SLEEVE_SHARE = 0.5
HAND_OFFSET, HAND_RADIUS = 0.025, 0.022

# ----------------------------------------------------------------- head
HEAD_HALF_AXES = (0.048, 0.064)
NECK_WIDTHS = (0.045, 0.05)      # at its top and bottom
#: Hair drawn over the top half of the head: head axes plus these pixels.
HAIR_CAP_GROWTH_PX = (2, 1)
#: Long hair behind the shoulders (front view): top and bottom half widths
#: and heights of the trapezoid.
LONG_HAIR_BEHIND = ((0.058, 0.04), (0.07, 0.2))
#: Long hair over the back (back view).
LONG_HAIR_OVER_BACK = ((0.05, 0.06), (0.065, 0.23))
#: Strands beside a front-view face: from ``(x, y)`` to ``(x, y)``, widths.
HAIR_STRAND = ((0.045, 0.05), (0.05, 0.16), (0.02, 0.024))
EYE_POSITION, EYE_RADIUS = (0.018, 0.07), 0.0055
MOUTH_HALF_WIDTH, MOUTH_Y, MOUTH_WIDTH = 0.009, 0.104, 0.004
#: A cap covers the top half of the head: head axes plus these pixels.
CAP_GROWTH_PX = (2, -2)
#: The cap's brim: its two ends from the axis, its height, and its width;
#: seen from behind it turns to the right by ``CAP_BRIM_TURN`` times its ends.
CAP_BRIM_ENDS, CAP_BRIM_Y, CAP_BRIM_WIDTH = (0.05, 0.05), 0.045, 0.012
CAP_BRIM_TURN = (0.02, 0.045)

# ----------------------------------------------------------------- bags
#: A backpack seen from the front sticks out this far past the shoulders.
BACKPACK_OVERHANG = 0.012
BACKPACK_FRONT_BOTTOM_Y = 0.44
#: A backpack seen from behind lies this far inside the shoulders.
BACKPACK_INSET = 0.02
BACKPACK_BACK_BOTTOM_Y = 0.43
#: Straps over the chest (backpack, shoulder bag) start at this height.
STRAP_TOP_Y = 0.17
#: Backpack straps: inset from the shoulders at top and bottom, bottom end.
BACKPACK_STRAP_INSETS = (0.03, 0.025)
BACKPACK_STRAP_BOTTOM_Y = 0.4
BACKPACK_STRAP_WIDTH = 0.018
#: A shoulder bag's strap runs from inside the left shoulder to past the
#: right hip; the bag hangs at the right hip.
SHOULDER_STRAP_INSET, SHOULDER_STRAP_PAST_HIP = 0.025, 0.02
SHOULDER_STRAP_WIDTH = 0.016
SHOULDER_BAG_WIDTH = 0.08
SHOULDER_BAG_Y = (0.44, 0.54)
#: A handbag below the right hand: half width, top and bottom below the hand;
#: its two handles end this far inside its top corners.
HANDBAG_HALF_WIDTH, HANDBAG_TOP, HANDBAG_BOTTOM = 0.04, 0.015, 0.1
HANDBAG_HANDLE_INSET, HANDBAG_HANDLE_WIDTH = 0.01, 0.008
