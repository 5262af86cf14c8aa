"""The first bytes of real files of each evidence kind (enough for the signature check), for tests."""

from __future__ import annotations

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"photo of the door" * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 60
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"video of the visit" * 4
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 40
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"audio of the visit" * 4
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 60
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"recording of the whole visit" * 2
AMR = b"#!AMR\n" + b"\x3c" * 60
TEXT = b"this is not a photo, a recording or a video, whatever its name says" * 2
