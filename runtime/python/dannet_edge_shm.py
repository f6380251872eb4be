#!/usr/bin/env python3
"""Reader of the dannet-edge shared-memory mask ring (layout version 1, docs/shm-layout.md).

Standard library only; numpy is used when installed (MaskRing.read_latest_array).

    from dannet_edge_shm import MaskRing
    with MaskRing("/dev/shm/dannet-edge") as ring:
        status, frame, mask = ring.read_latest()     # mask: bytes, height*width class ids
        if status == "frame": ...

As a program: follow the ring and print per-frame stats, or save the newest mask as a colour PNG:

    python3 dannet_edge_shm.py --frames 100
    python3 dannet_edge_shm.py --frames 1 --png mask.png
"""
import argparse
import json
import mmap
import os
import struct
import sys
import time
import zlib

MAGIC = b"DNETMASK"
VERSION = 1
HEADER_SIZE = 4096
SLOT_HEADER_SIZE = 64
# Header: version, header_size, slot_count, slot_stride, slot_header_size, width, height,
# class_count, pixel_format, writer_pid (u32 at 8..47), then u64 generation, heartbeat_ns,
# latest_frame_id, frames_published, frames_dropped, created_unix_ns (48..95).
_HEADER = struct.Struct("<10I6Q")
_SLOT = struct.Struct("<QQQQII")  # sequence, frame_id, capture_ns, publish_ns, crc32, mask_bytes
PALETTE_OFFSET, MODEL_OFFSET, MODEL_SIZE, NAMES_OFFSET, NAMES_SIZE = 128, 1152, 64, 1216, 2048


class RingError(Exception):
    """The file is not a ring this reader can read; the message names the file and why."""


class MaskRing:
    """A read-only view of the ring. Never blocks or slows the writer."""

    def __init__(self, path="/dev/shm/dannet-edge"):
        self.path = path
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise RingError(f"No mask ring at '{path}'. Is dannet-edge running (and publishing to this path)?")
        try:
            size = os.fstat(fd).st_size
            if size < HEADER_SIZE:
                raise RingError(f"'{path}' is {size} bytes, smaller than a ring header ({HEADER_SIZE}); not a DANNet Edge mask ring.")
            self._mm = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        if self._mm[0:8] != MAGIC:
            self.close()
            raise RingError(f"'{path}' is not a DANNet Edge mask ring (no DNETMASK magic).")
        h = _HEADER.unpack_from(self._mm, 8)
        (version, header_size, self.slot_count, self.slot_stride, slot_header, self.width, self.height,
         self.class_count, pixel_format, _pid) = h[:10]
        if version != VERSION:
            self.close()
            raise RingError(f"'{path}' has ring layout version {version}; this reader reads version {VERSION}.")
        expected_stride = -(-(SLOT_HEADER_SIZE + self.width * self.height) // 4096) * 4096
        if (header_size, slot_header, self.slot_stride, pixel_format) != (HEADER_SIZE, SLOT_HEADER_SIZE, expected_stride, 1) \
                or size < HEADER_SIZE + self.slot_count * self.slot_stride:
            self.close()
            raise RingError(f"'{path}': the header's sizes do not agree with layout version {VERSION}.")
        self.generation = self._header()[10]
        self.model = self._text(MODEL_OFFSET, MODEL_SIZE)
        self.class_names = self._text(NAMES_OFFSET, NAMES_SIZE).split("\n")
        pal = self._mm[PALETTE_OFFSET:PALETTE_OFFSET + 4 * self.class_count]
        self.palette = [tuple(pal[4 * i:4 * i + 3]) for i in range(self.class_count)]
        self._last_id = 0
        self.overruns = 0
        self.checksum_failures = 0

    def _text(self, offset, size):
        raw = self._mm[offset:offset + size]
        return raw.split(b"\0", 1)[0].decode("utf-8")

    def _header(self):
        return _HEADER.unpack_from(self._mm, 8)

    @property
    def writer_pid(self):
        return self._header()[9]

    @property
    def latest_frame_id(self):
        return self._header()[12]

    @property
    def frames_dropped(self):
        return self._header()[14]

    def heartbeat_age_s(self):
        return max(0, time.monotonic_ns() - self._header()[11]) / 1e9

    def writer_state(self, stale_after_s=2.0):
        """'alive', 'stopped' (clean shutdown) or 'dead' (stale heartbeat or no such process)."""
        pid = self.writer_pid
        if pid == 0:
            return "stopped"
        if self.heartbeat_age_s() > stale_after_s or not os.path.exists(f"/proc/{pid}"):
            return "dead"
        return "alive"

    def read_latest(self, verify=True):
        """Returns (status, frame, mask). status: 'frame', 'no-frame-yet', 'no-new-frame', 'overrun',
        'checksum-mismatch' or 'writer-restarted'; frame: dict of the slot header; mask: bytes."""
        h = self._header()
        if h[10] != self.generation:
            return "writer-restarted", None, None
        frame_id = h[12]
        if frame_id == 0:
            return "no-frame-yet", None, None
        if frame_id == self._last_id:
            return "no-new-frame", None, None
        slot = HEADER_SIZE + ((frame_id - 1) % self.slot_count) * self.slot_stride
        seq1, fid, capture, publish, crc, nbytes = _SLOT.unpack_from(self._mm, slot)
        if seq1 & 1:
            self.overruns += 1
            return "overrun", None, None
        mask = self._mm[slot + SLOT_HEADER_SIZE:slot + SLOT_HEADER_SIZE + self.width * self.height]
        seq2 = struct.unpack_from("<Q", self._mm, slot)[0]
        if seq1 != seq2 or fid != frame_id:
            self.overruns += 1
            return "overrun", None, None
        # CPython gives no memory-ordering guarantee between the copies above; the CRC catches
        # what the sequence check alone could miss on weakly ordered CPUs (the Jetson's ARM).
        if verify and zlib.crc32(mask) != crc:
            self.checksum_failures += 1
            return "checksum-mismatch", None, None
        self._last_id = frame_id
        return "frame", {"frame_id": fid, "capture_ns": capture, "publish_ns": publish, "crc32": crc}, mask

    def read_latest_array(self, verify=True):
        """Like read_latest, with the mask as a numpy uint8 array of shape (height, width)."""
        import numpy as np
        status, frame, mask = self.read_latest(verify)
        return status, frame, None if mask is None else np.frombuffer(mask, np.uint8).reshape(self.height, self.width)

    def colour_png(self, mask):
        """The mask as an 8-bit palette PNG (bytes), coloured with the ring's palette."""
        rows = b"".join(b"\0" + mask[y * self.width:(y + 1) * self.width] for y in range(self.height))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        palette = bytes(c for rgb in self.palette for c in rgb) + bytes(3 * (256 - len(self.palette)))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8, 3, 0, 0, 0))
                + chunk(b"PLTE", palette) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))

    def close(self):
        if getattr(self, "_mm", None) is not None:
            self._mm.close()
            self._mm = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def pattern_ok(mask, frame_id, classes):
    """True when mask is publish-test-pattern's frame frame_id: pixel i = (7*frame_id + i) mod classes."""
    start = (7 * frame_id) % classes
    period = bytes((start + i) % classes for i in range(classes))
    reps = -(-len(mask) // classes)
    return mask == (period * reps)[:len(mask)]


def main(argv=None):
    p = argparse.ArgumentParser(description="Follow the dannet-edge mask ring (layout v1) and print per-frame stats.")
    p.add_argument("--path", default="/dev/shm/dannet-edge")
    p.add_argument("--frames", type=int, default=0, help="stop after N frames (0: no limit)")
    p.add_argument("--seconds", type=float, default=0, help="stop after S seconds (0: no limit)")
    p.add_argument("--png", help="write the last frame read as a colour PNG here")
    p.add_argument("--verify-pattern", action="store_true", help="check frames against publish-test-pattern")
    p.add_argument("--json", action="store_true", help="print only a JSON summary")
    args = p.parse_args(argv)
    try:
        ring = MaskRing(args.path)
    except RingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    start, read, mismatches, last_mask, last_line = time.monotonic(), 0, 0, None, 0.0
    if ring.writer_state() != "alive":
        print(f"warning: the writer of {args.path} is {ring.writer_state()}; its frames are old", file=sys.stderr)
    with ring:
        while (args.frames == 0 or read < args.frames) and (args.seconds == 0 or time.monotonic() - start < args.seconds):
            status, frame, mask = ring.read_latest()
            if status != "frame":
                if status == "writer-restarted" or (status == "no-new-frame" and ring.writer_state() != "alive"):
                    if not args.json:
                        print(f"writer {ring.writer_state()}", file=sys.stderr)
                    if ring.writer_state() != "alive" and args.seconds == 0 and args.frames == 0:
                        break
                time.sleep(0.001)
                continue
            read += 1
            last_mask = mask
            if args.verify_pattern and not pattern_ok(mask, frame["frame_id"], ring.class_count):
                mismatches += 1
            now = time.monotonic()
            if not args.json and now - last_line >= 0.25:
                last_line = now
                latency = (time.monotonic_ns() - frame["publish_ns"]) / 1e6
                print(f"frame {frame['frame_id']:7d}  {ring.width}x{ring.height}  publish->read {latency:6.2f} ms  overruns {ring.overruns}")
        if args.png and last_mask is not None:
            with open(args.png + ".tmp", "wb") as f:
                f.write(ring.colour_png(last_mask))
            os.replace(args.png + ".tmp", args.png)
        summary = {"framesRead": read, "overruns": ring.overruns, "checksumFailures": ring.checksum_failures,
                   "patternMismatches": mismatches, "model": ring.model, "width": ring.width, "height": ring.height}
        print(json.dumps(summary) if args.json else f"read {read} frames, overruns {ring.overruns}, checksum failures {ring.checksum_failures}"
              + (f", pattern mismatches {mismatches}" if args.verify_pattern else ""))
    return 0 if mismatches == 0 and ring.checksum_failures == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
