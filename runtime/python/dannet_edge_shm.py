#!/usr/bin/env python3
"""Reader of the dannet-edge shared-memory mask ring (layout versions 1 and 2, docs/shm-layout.md).

Standard library only; numpy is used when installed (MaskRing.read_latest_array). Version 2 rings carry a
CRC-32C per mask: with the crc32c or google-crc32c package installed it is checked at C speed, without
either by a table in Python (correct, but tens of milliseconds for a 960x540 mask; read_latest(verify=False)
skips it).

    from dannet_edge_shm import MaskRing
    with MaskRing("/dev/shm/dannet-edge/masks") as ring:    # owner="dannet": the service user you trust
        status, frame, mask = ring.read_latest()     # mask: bytes, height*width class ids
        if status == "frame": ...

As a program: follow the ring and print per-frame stats, or save the newest mask as a colour PNG:

    python3 dannet_edge_shm.py --frames 100
    python3 dannet_edge_shm.py --frames 1 --png mask.png
    python3 dannet_edge_shm.py --owner dannet           # on a car: trust the service user's ring

It reads with pread, never a mapping, and checks before trusting a file: not a symbolic link, owned by the
writer you trust (--owner / $DANNET_EDGE_RING_OWNER; default: you or root), writable by nobody else, in a
folder nobody else can write to, and a header that agrees with the layout's limits and the file's size
(docs/shm-layout.md, "Security").
"""
import argparse
import errno
import json
import os
import pwd
import signal
import stat
import struct
import sys
import time
import zlib

MAGIC = b"DNETMASK"
VERSION = 2          # the newest layout read; versions OLDEST_VERSION..VERSION are read
OLDEST_VERSION = 1
HEADER_SIZE = 4096
SLOT_HEADER_SIZE = 64
MIN_SLOTS, MAX_SLOTS, MAX_SIDE = 2, 1024, 16384
DEFAULT_PATH = "/dev/shm/dannet-edge/masks"
OWNER_VARIABLE = "DANNET_EDGE_RING_OWNER"
# Header: version, header_size, slot_count, slot_stride, slot_header_size, width, height,
# class_count, pixel_format, writer_pid (u32 at 8..47), then u64 generation, heartbeat_ns,
# latest_frame_id, frames_published, frames_dropped, created_unix_ns (48..95).
_HEADER = struct.Struct("<10I6Q")
_PREFIX = 96
_SLOT = struct.Struct("<QQQQII")  # sequence, frame_id, capture_ns, publish_ns, checksum, mask_bytes
PALETTE_OFFSET, MODEL_OFFSET, MODEL_SIZE, NAMES_OFFSET, NAMES_SIZE = 128, 1152, 64, 1216, 2048


def _crc32c_python():
    """CRC-32C in Python, eight bytes per step (slicing-by-8 tables): about three times the byte-wise speed."""
    tables = [[0] * 256 for _ in range(8)]
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        tables[0][i] = c
    for i in range(256):
        for k in range(1, 8):
            prev = tables[k - 1][i]
            tables[k][i] = (prev >> 8) ^ tables[0][prev & 0xFF]
    t0, t1, t2, t3, t4, t5, t6, t7 = tables
    words = struct.Struct("<Q")

    def crc32c(data):
        data = memoryview(data).cast("B")
        crc = 0xFFFFFFFF
        whole = len(data) - len(data) % 8
        for (w,) in words.iter_unpack(data[:whole]):
            w ^= crc
            crc = (t7[w & 0xFF] ^ t6[(w >> 8) & 0xFF] ^ t5[(w >> 16) & 0xFF] ^ t4[(w >> 24) & 0xFF]
                   ^ t3[(w >> 32) & 0xFF] ^ t2[(w >> 40) & 0xFF] ^ t1[(w >> 48) & 0xFF] ^ t0[w >> 56])
        for b in data[whole:]:
            crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF
    return crc32c


def _crc32c_function():
    """CRC-32C (Castagnoli): a C implementation when one is installed, else the table in Python."""
    try:
        import crc32c as module  # PyPI 'crc32c'
        return module.crc32c
    except ImportError:
        pass
    try:
        import google_crc32c as module  # PyPI 'google-crc32c'
        return module.value
    except ImportError:
        return _crc32c_python()


crc32c = _crc32c_function()


def checksum(mask, version):
    """The slot checksum of layout `version`: CRC-32 (zlib's) in version 1, CRC-32C from version 2 on."""
    return zlib.crc32(mask) if version < 2 else crc32c(mask)


class RingError(Exception):
    """The file is not a ring this reader can read or trust; the message names the file and why."""


def _text(h, offset, size, name, path):
    raw = bytes(h[offset:offset + size])
    end = raw.find(b"\0")
    if end < 0:
        raise RingError(f"'{path}': the {name} field is not NUL-terminated.")
    try:
        return raw[:end].decode("utf-8")
    except UnicodeDecodeError:
        raise RingError(f"'{path}': the {name} field is not valid UTF-8.")


def parse_header(h, file_size, path="<ring>"):
    """Checks a 4096-byte header field by field against the layout's limits and the file's size, before
    anything is sized from it. Returns a dict (version, slot_count, slot_stride, width, height, class_count,
    generation, model, class_names, palette) or raises RingError."""
    if len(h) < HEADER_SIZE:
        raise RingError(f"'{path}': a ring header is {HEADER_SIZE} bytes, got {len(h)}.")
    if bytes(h[0:8]) != MAGIC:
        raise RingError(f"'{path}' is not a DANNet Edge mask ring (no DNETMASK magic), or its writer is still creating it.")
    (version, header_size, slots, stride, slot_header, width, height, classes, pixel_format, _pid) = _HEADER.unpack_from(h, 8)[:10]
    if not OLDEST_VERSION <= version <= VERSION:
        raise RingError(f"'{path}' has ring layout version {version}; this reader reads versions {OLDEST_VERSION} to {VERSION}.")
    if not MIN_SLOTS <= slots <= MAX_SLOTS:
        raise RingError(f"'{path}': slot_count {slots} is outside {MIN_SLOTS}..{MAX_SLOTS}.")
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise RingError(f"'{path}': mask size {width}x{height} is outside 1..{MAX_SIDE} per side.")
    if not 1 <= classes <= 255:
        raise RingError(f"'{path}': class_count {classes} is outside 1..255.")
    expected_stride = -(-(SLOT_HEADER_SIZE + width * height) // 4096) * 4096
    if (header_size, slot_header, stride, pixel_format) != (HEADER_SIZE, SLOT_HEADER_SIZE, expected_stride, 1):
        raise RingError(f"'{path}': the header's sizes do not agree with layout version {version}.")
    needed = HEADER_SIZE + slots * stride
    if file_size < needed:
        raise RingError(f"'{path}' is {file_size} bytes; its header describes {slots} slots of {width}x{height}, {needed} bytes: truncated or forged.")
    names = _text(h, NAMES_OFFSET, NAMES_SIZE, "class_names", path).split("\n")
    if len(names) != classes:
        raise RingError(f"'{path}': class_names holds {len(names)} names for class_count {classes}.")
    pal = bytes(h[PALETTE_OFFSET:PALETTE_OFFSET + 4 * classes])
    return {"version": version, "slot_count": slots, "slot_stride": stride, "width": width, "height": height, "class_count": classes,
            "generation": _HEADER.unpack_from(h, 8)[10], "model": _text(h, MODEL_OFFSET, MODEL_SIZE, "model", path),
            "class_names": names, "palette": [tuple(pal[4 * i:4 * i + 3]) for i in range(classes)]}


def trusted_owner(owner=None):
    """The uid readers believe: the given user (name or uid), else $DANNET_EDGE_RING_OWNER, else None (you or root)."""
    owner = owner or os.environ.get(OWNER_VARIABLE)
    if not owner:
        return None
    if owner.isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise RingError(f"No user '{owner}' on this machine to trust as the ring's writer.")


def _user(uid):
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


class MaskRing:
    """A read-only view of the ring. Never blocks or slows the writer. Reads with pread, never a mapping:
    a ring truncated underneath is a short read ('damaged'), not a SIGBUS."""

    def __init__(self, path=DEFAULT_PATH, owner=None):
        self.path = path
        self._fd = None
        expected = trusted_owner(owner)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise RingError(f"No mask ring at '{path}'. Is dannet-edge running (and publishing to this path)?")
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise RingError(f"'{path}' is a symbolic link; a ring never is one: refused (someone may be redirecting readers).")
            raise RingError(f"Cannot open the mask ring '{path}': {e.strerror}.")
        self._fd = fd
        try:
            self._check_trust(os.fstat(fd), expected)
            self._ident = os.fstat(fd)
            h = os.pread(fd, HEADER_SIZE, 0)
            if len(h) < HEADER_SIZE:
                raise RingError(f"'{path}' is {len(h)} bytes, smaller than a ring header ({HEADER_SIZE}); not a DANNet Edge mask ring.")
            info = parse_header(h, self._ident.st_size, path)
        except BaseException:
            self.close()
            raise
        self.version = info["version"]
        self.slot_count, self.slot_stride = info["slot_count"], info["slot_stride"]
        self.width, self.height, self.class_count = info["width"], info["height"], info["class_count"]
        self.generation, self.model = info["generation"], info["model"]
        self.class_names, self.palette = info["class_names"], info["palette"]
        self.owner_uid = self._ident.st_uid
        self._last_id = 0
        self.overruns = 0
        self.checksum_failures = 0
        self.invalid_frames = 0
        # translate() table: 0 for a valid value (a class id or 255), 1 for anything else.
        self._valid_values = bytes(0 if v < self.class_count or v == 255 else 1 for v in range(256))

    def _check_trust(self, st, expected):
        path = self.path
        if not stat.S_ISREG(st.st_mode):
            raise RingError(f"'{path}' is not a regular file: not a mask ring.")
        me = os.geteuid()
        if (st.st_uid != expected) if expected is not None else (st.st_uid not in (me, 0)):
            who = _user(expected) if expected is not None else f"you ({_user(me)}) or root"
            raise RingError(f"'{path}' belongs to {_user(st.st_uid)}, not to {who}: refused (another user could have made it). "
                            f"If that user is the writer you trust, name it (--owner, ${OWNER_VARIABLE}).")
        if st.st_mode & 0o022:
            raise RingError(f"'{path}' can be written by its group or by anyone (mode {oct(st.st_mode & 0o7777)}): its masks could be forged; refused.")
        folder = os.path.dirname(os.path.abspath(path))
        d = os.lstat(folder)
        if not stat.S_ISDIR(d.st_mode) or d.st_uid not in (st.st_uid, 0) or d.st_mode & 0o022:
            raise RingError(f"'{path}' is in '{folder}', which is not a folder that only the ring's owner (or root) can write to: "
                            "anyone could have put or replaced the file there; refused.")

    def _prefix(self):
        """The header's first 96 bytes, or None when the file no longer holds a ring header (truncated or overwritten)."""
        try:
            raw = os.pread(self._fd, _PREFIX, 0)
        except OSError:
            return None
        if len(raw) < _PREFIX or raw[0:8] != MAGIC or struct.unpack_from("<I", raw, 8)[0] != self.version:
            return None
        return _HEADER.unpack_from(raw, 8)

    @property
    def writer_pid(self):
        h = self._prefix()
        return h[9] if h else 0

    @property
    def latest_frame_id(self):
        h = self._prefix()
        return h[12] if h else 0

    @property
    def frames_dropped(self):
        h = self._prefix()
        return h[14] if h else 0

    def heartbeat_age_s(self):
        h = self._prefix()
        return float("inf") if h is None else max(0, time.monotonic_ns() - h[11]) / 1e9

    def writer_state(self, stale_after_s=2.0):
        """'alive', 'stopped' (clean shutdown) or 'dead' (stale heartbeat, no such process, or no readable header)."""
        h = self._prefix()
        if h is None:
            return "dead"
        pid = h[9]
        if pid == 0:
            return "stopped"
        if max(0, time.monotonic_ns() - h[11]) / 1e9 > stale_after_s or not os.path.exists(f"/proc/{pid}"):
            return "dead"
        return "alive"

    def is_replaced(self):
        """True when the path now names another file (a writer made the ring anew) or nothing."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return True
        return (st.st_ino, st.st_dev) != (self._ident.st_ino, self._ident.st_dev)

    def read_latest(self, verify=True):
        """Returns (status, frame, mask). status: 'frame', 'no-frame-yet', 'no-new-frame', 'overrun',
        'checksum-mismatch', 'writer-restarted' or 'damaged' (truncated or overwritten: re-open);
        frame: dict of the slot header; mask: bytes."""
        h = self._prefix()
        if h is None:
            return "damaged", None, None
        if h[10] != self.generation:
            return "writer-restarted", None, None
        frame_id = h[12]
        if frame_id == 0:
            return "no-frame-yet", None, None
        if frame_id == self._last_id:
            return "no-new-frame", None, None
        slot = HEADER_SIZE + ((frame_id - 1) % self.slot_count) * self.slot_stride
        n = self.width * self.height
        head = os.pread(self._fd, SLOT_HEADER_SIZE, slot)
        if len(head) < SLOT_HEADER_SIZE:
            return "damaged", None, None
        seq1, fid, capture, publish, crc, _nbytes = _SLOT.unpack_from(head, 0)
        if seq1 & 1:
            self.overruns += 1
            return "overrun", None, None
        mask = os.pread(self._fd, n, slot + SLOT_HEADER_SIZE)
        tail = os.pread(self._fd, 8, slot)
        if len(mask) < n or len(tail) < 8:
            return "damaged", None, None
        seq2 = struct.unpack("<Q", tail)[0]
        if seq1 != seq2 or fid != frame_id:
            self.overruns += 1
            return "overrun", None, None
        # Python gives no memory-ordering guarantee between the reads above; the checksum catches
        # what the sequence check alone could miss on weakly ordered CPUs (the Jetson's ARM).
        if verify and checksum(mask, self.version) != crc:
            self.checksum_failures += 1
            return "checksum-mismatch", None, None
        self._last_id = frame_id
        # Values are class ids 0..class_count-1 or 255 (no prediction): anything else is no class; the frame is damage.
        if mask.translate(self._valid_values).strip(b"\x00"):
            self.invalid_frames += 1
            return "invalid-values", None, None
        return "frame", {"frame_id": fid, "capture_ns": capture, "publish_ns": publish, "checksum": crc}, mask

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
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None

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
    p.add_argument("--path", default=DEFAULT_PATH)
    p.add_argument("--camera", help="follow camera NAME's ring: <the folder of --path>/NAME (one ring per camera)")
    p.add_argument("--owner", help=f"the user (name or uid) whose ring to trust (default: ${OWNER_VARIABLE}, else you or root)")
    p.add_argument("--frames", type=int, default=0, help="stop after N frames (0: no limit)")
    p.add_argument("--seconds", type=float, default=0, help="stop after S seconds (0: no limit), whatever the ring does")
    p.add_argument("--png", help="write the last frame read as a colour PNG here")
    p.add_argument("--verify-pattern", action="store_true", help="check frames against publish-test-pattern")
    p.add_argument("--any-writer", action="store_true", help="also read a ring whose writer stopped or died (old frames)")
    p.add_argument("--json", action="store_true", help="print only a JSON summary")
    args = p.parse_args(argv)
    if args.camera is not None:
        name = args.camera
        if not (1 <= len(name) <= 32 and (name[0].islower() or name[0].isdigit()) and name.isascii()
                and all(c.islower() or c.isdigit() or c in "-_" for c in name)):
            p.error(f"--camera '{name}' is not a camera name (1-32 of a-z, 0-9, '-' and '_')")
        args.path = os.path.join(os.path.dirname(os.path.abspath(args.path)), name)
    try:
        trusted_owner(args.owner)
    except RingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    start = time.monotonic()

    def done():
        return stop or (args.frames and read >= args.frames) or (args.seconds and time.monotonic() - start >= args.seconds)

    def pause(s):
        if args.seconds:
            s = min(s, max(0.0, args.seconds - (time.monotonic() - start)))
        time.sleep(s)

    told = [None]

    def tell(line):
        if line != told[0]:
            told[0] = line
            if not args.json:
                print(line, file=sys.stderr)

    ring, read, mismatches, restarts, waits, last_mask, last_line, generation = None, 0, 0, 0, 0, None, 0.0, 0
    overruns = checksum_failures = invalid = 0
    model, width, height, state = "", 0, 0, "absent"
    backoff, last_check = 0.01, 0.0
    try:
        while not done():
            if ring is None:
                try:
                    ring = MaskRing(args.path, args.owner)
                    state = ring.writer_state()
                    if state != "alive" and not args.any_writer:
                        why = f"its writer (pid {ring.writer_pid}) is dead; its frames are old" if state == "dead" else f"its writer is {state}; its frames are old"
                        ring.close()
                        ring = None
                        raise RingError(why)
                except RingError as e:
                    tell(f"waiting for a live writer at {args.path} ({e})")
                    waits += 1
                    pause(backoff)
                    backoff = min(backoff * 2, 0.2)
                    continue
                backoff = 0.01
                if generation and ring.generation != generation:
                    restarts += 1
                    tell(f"writer restarted: generation {generation:x} -> {ring.generation:x}, pid {ring.writer_pid}")
                else:
                    tell(f"reading {args.path}: {ring.width}x{ring.height}, {ring.model}, writer pid {ring.writer_pid}")
                generation, model, width, height = ring.generation, ring.model, ring.width, ring.height
            status, frame, mask = ring.read_latest()
            if status == "frame":
                read += 1
                last_mask = mask
                if args.verify_pattern and not pattern_ok(mask, frame["frame_id"], ring.class_count):
                    mismatches += 1
                now = time.monotonic()
                if not args.json and now - last_line >= 0.25:
                    last_line = now
                    latency = (time.monotonic_ns() - frame["publish_ns"]) / 1e6
                    print(f"frame {frame['frame_id']:7d}  {ring.width}x{ring.height}  publish->read {latency:6.2f} ms  overruns {ring.overruns + overruns}")
                continue
            if status in ("overrun", "checksum-mismatch"):
                continue
            if status == "invalid-values":
                invalid += 1
                continue
            if status in ("damaged", "writer-restarted"):
                if status == "damaged":
                    tell(f"the ring at {args.path} was truncated or overwritten under this reader")
                    state = "damaged"
                overruns, checksum_failures = overruns + ring.overruns, checksum_failures + ring.checksum_failures
                ring.close()
                ring = None
                continue
            if time.monotonic() - last_check >= 0.2:
                last_check = time.monotonic()
                state = ring.writer_state()
                if ring.is_replaced() or (state != "alive" and not args.any_writer):
                    overruns, checksum_failures = overruns + ring.overruns, checksum_failures + ring.checksum_failures
                    ring.close()
                    ring = None
                    continue
            pause(0.001)
    except KeyboardInterrupt:
        pass
    if ring is not None:
        state = ring.writer_state()
        overruns, checksum_failures = overruns + ring.overruns, checksum_failures + ring.checksum_failures
        if args.png and last_mask is not None:
            with open(args.png + ".tmp", "wb") as f:
                f.write(ring.colour_png(last_mask))
            os.replace(args.png + ".tmp", args.png)
        ring.close()
    summary = {"framesRead": read, "overruns": overruns, "checksumFailures": checksum_failures, "patternMismatches": mismatches,
               "invalidFrames": invalid, "writerRestarts": restarts, "waits": waits, "lastWriterState": state, "model": model,
               "width": width, "height": height}
    print(json.dumps(summary) if args.json else f"read {read} frames, overruns {overruns}, checksum failures {checksum_failures}, "
          f"writer restarts {restarts}, waits {waits}" + (f", pattern mismatches {mismatches}" if args.verify_pattern else "")
          + (f", invalid frames {invalid} (values that are no class)" if invalid else "") + f"; writer {state}")
    return 0 if mismatches == 0 and checksum_failures == 0 and invalid == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
