"""Where each dataset's archives and lists come from, with the sizes and hashes that are published.

``sha256=None`` means nobody publishes one: once such an archive passed the size check, opened, and had every
member read back (zip: every CRC checked), its hash is pinned in the project's lock file
(``data_prep.integrity.HashLock``: ``$VPBENCH_CACHE/hashes.lock.json``) and later runs must match it.
Sources: docs/data.md.
"""

from __future__ import annotations

from data_prep.download import RemoteFile

KITTI_BASE = "https://s3.eu-central-1.amazonaws.com/avg-kitti/raw_data"
#: zip sizes known from a public download list (others are checked by the lock file only)
KITTI_ZIP_BYTES = {
    "2011_09_26_drive_0060_sync": 298_725_765,
    "2011_09_26_drive_0084_sync": 1_574_584_300,
    "2011_09_26_drive_0093_sync": 1_720_308_957,
    "2011_09_26_drive_0096_sync": 2_016_323_567,
    "2011_09_29_drive_0071_sync": 4_337_332_333,
    "2011_09_26_drive_0117_sync": 2_786_458_483,
    "2011_09_26_drive_0009_sync": 1_791_264_044,
}


def kitti_zip(drive: str) -> RemoteFile:
    stem = drive[: -len("_sync")]
    return RemoteFile(f"{drive}.zip", f"{KITTI_BASE}/{stem}/{drive}.zip", KITTI_ZIP_BYTES.get(drive))


CITYSCAPES_SEQUENCE_ZIP = RemoteFile(
    "leftImg8bit_sequence_trainvaltest.zip",
    None,  # behind the Cityscapes login: csDownload or a user-placed file
    md5="4348961b135d856c1777f7f1098f7266",  # third-party quote; the server's md5 (csDownload) is authoritative
)

DAVIS_TRAINVAL_480P = RemoteFile(
    "DAVIS-2017-trainval-480p.zip",
    "https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip",
    832_766_765,
    "e3d0b5b77c3d031b000a19e0e25e3e2cac65d183755601bc2cf066df1a2aa492",
)

UCF101_JPEG_PARTS = tuple(
    RemoteFile(f"ucf101_jpegs_256.zip.{n:03d}", f"http://ftp.tugraz.at/pub/feichtenhofer/tsfusion/data/ucf101_jpegs_256.zip.{n:03d}")
    for n in (1, 2, 3)
)
UCF101_SPLITS = RemoteFile(
    "UCF101TrainTestSplits-RecognitionTask.zip",
    "https://www.crcv.ucf.edu/data/UCF101/UCF101TrainTestSplits-RecognitionTask.zip",
    113_943,
    "5c0d1a53b8ed364a2ac830a73f405e51bece7d98ce1254fd19ed4a36b224bd27",
)

VIMEO_TRIPLET = RemoteFile("vimeo_triplet.zip", "http://data.csail.mit.edu/tofu/dataset/vimeo_triplet.zip")
VIMEO_SEPTUPLET_TEST = RemoteFile("vimeo_test_clean.zip", "http://data.csail.mit.edu/tofu/testset/vimeo_test_clean.zip")
_ZSM = "https://raw.githubusercontent.com/Mukosame/Zooming-Slow-Mo-CVPR-2020/56ece7a73d49e541c7a81ffbbcbd754c41c242d1/datasets/meta_info"
VIMEO_MOTION_LISTS = {
    "fast": RemoteFile("fast_testset.txt", f"{_ZSM}/fast_testset.txt", None, "c75d7382228728c460f041eee220f4c9ba4444507a461203ab4b3cc2721853e2"),
    "medium": RemoteFile("medium_testset.txt", f"{_ZSM}/medium_testset.txt", None, "c89afd293f5112f4f94d779abf033b37459fcfe80941ef2413920e9d30c88a4f"),
    "slow": RemoteFile("slow_testset.txt", f"{_ZSM}/slow_testset.txt", None, "d14019e575a5367a2391621cab8dfdb34fc39cfcc3aa2ea1d75dff0ebb27cab7"),
}

UCF_SPORTS_ZIP = RemoteFile("ucf_sports_actions.zip", "https://www.crcv.ucf.edu/data/ucf_sports_actions.zip")
_STRPM = "https://raw.githubusercontent.com/ZhengChang467/STRPM"
UCF_SPORTS_LISTS = {
    "train": RemoteFile("train.txt", f"{_STRPM}/2a4eb4441dd9b43ad201e80bf64d1ac09fc74ec6/datasets/ucfsports/train.txt", None,
                        "0d45a865692488710c288dcadd4b237e1a08d8956661e30fd2b38f786801c44a"),
    "test": RemoteFile("test.txt", f"{_STRPM}/2a4eb4441dd9b43ad201e80bf64d1ac09fc74ec6/datasets/ucfsports/test.txt", None,
                       "dbe77b5956e9e4f6dff02de312dea28005b2853de7a3f62b68391cde7dfa1197"),
}
HUMAN36M_TEST_LIST = RemoteFile(
    "test.txt", f"{_STRPM}/57a5f0cae48d3f5da6d540f6b6d221e1a2946a96/datasets/human3.6m/test.txt", None,
    "f643530cf180035e0a4da7b236c756b1350987512640184aa1520abcafe9adf7",
)
#: list files whose content is pinned for full (non-subset) preparations: file name -> accepted sha256s
PINNED_LISTS = {
    "ucfsports": {
        "train.txt": {UCF_SPORTS_LISTS["train"].sha256},
        "test.txt": {UCF_SPORTS_LISTS["test"].sha256},
    },
    "human36m": {
        "test.txt": {HUMAN36M_TEST_LIST.sha256, "9b840384aa589f8d8c25867e850403bdaea8c7d0f98d72d37e8ec306efe4ec38"},
        "train.txt": {"40bcdf3d1ab76c6cea7428524ab6ae59ab90717e0dfba6be7e0697c6db8410bb"},  # OpenSTL (STRPM's unknown)
    },
    "vimeo_septuplet": {f"{k}_testset.txt": {v.sha256} for k, v in VIMEO_MOTION_LISTS.items()},
}
