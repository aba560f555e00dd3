"""One sensed sample on its way through the fleet: times, frames, bit errors, energy and outcome."""

from __future__ import annotations

# Why an inference ended without a prediction (0 = delivered and decoded).
DELIVERED = 0
LOST_HEADER = 1  # a frame's header was corrupted
LOST_COLLISION = 2  # a frame collided on a shared medium
LOST_QUEUE = 3  # the edge queue was full
LOST_RETRIES = 4  # a bit-exact strategy gave up after its retry limit
LOST_ACCESS = 5  # carrier sense never found the medium free
LOST_PAYLOAD = 6  # receiver policy `drop` without ARQ: a frame's payload failed its CRC
LOST_DRAIN = 7  # still unfinished (on a device, on the air or at the edge) when `drain_limit_s` ended the run
LOST_REASONS = {
    DELIVERED: "delivered", LOST_HEADER: "header", LOST_COLLISION: "collision",
    LOST_QUEUE: "queue", LOST_RETRIES: "retries", LOST_ACCESS: "access", LOST_PAYLOAD: "payload",
    LOST_DRAIN: "drain",
}


class Inference:
    """Mutable in-flight record; plain slots because the engine creates one per sample."""

    __slots__ = (
        "active_s",
        "airtime_s",
        "ber",
        "ber_bits",
        "ber_est",
        "bit_errors",
        "bits_on_air",
        "cca_mj",
        "codec_variant",
        "compute_mj",
        "device",
        "erased",
        "erased_frames",
        "erased_symbols",
        "est_bits",
        "frames",
        "group",
        "label",
        "lost",
        "positions",
        "pred",
        "rx_mj",
        "rx_window_mj",
        "sample",
        "sense_mj",
        "server",
        "setup_mj",
        "snr_db",
        "t_arrive",
        "t_done",
        "t_sense",
        "t_service",
        "t_tx_start",
        "tail_mj",
        "tx_attempts",
        "tx_mj",
        "wake_mj",
    )

    def __init__(self, device: int, group: int, sample: int, label: int, t_sense: float) -> None:
        self.device = device
        self.group = group
        self.sample = sample
        self.label = label
        self.t_sense = t_sense
        self.t_tx_start = t_sense
        self.t_arrive = -1.0
        self.t_service = -1.0
        self.t_done = -1.0
        self.ber = 0.0  # true channel BER, mean over every frame attempt
        self.ber_est = 0.0  # receiver's BER estimate, mean over the payload bits of frames received
        self.ber_bits = 0  # weights of the two means while they are accumulated (attempts; bits)
        self.est_bits = 0
        self.bit_errors = 0
        self.positions: list[int] | None = None  # payload bit positions flipped, if any
        self.frames = 0
        # on_frame_loss `erase` only (else -1 / None): frames lost on the air, the payload bit ranges
        # [start, end) they carried (None: none lost), and the symbols the decoder took as erased
        self.erased_frames = -1
        self.erased: list[tuple[int, int]] | None = None
        self.erased_symbols = -1
        self.tx_attempts = 0
        self.bits_on_air = 0
        self.lost = DELIVERED
        self.sense_mj = 0.0
        self.compute_mj = 0.0
        self.tx_mj = 0.0
        self.rx_mj = 0.0
        # protocol and wake-up phases (cosim.net.protocols): one `<phase>_mj` record column each
        self.wake_mj = 0.0  # MCU wake from stop + radio start-up
        self.rx_window_mj = 0.0  # receive windows / the central's packets the protocol opens
        self.cca_mj = 0.0  # clear-channel assessment before each frame
        self.setup_mj = 0.0  # connection set-up and release (random access, RRC, association)
        self.tail_mj = 0.0  # connected-mode inactivity tail and idle before the deep sleep
        self.active_s = 0.0  # time the device was not asleep for this inference
        self.pred = -1
        self.codec_variant = 0  # index of the codec variant used (adaptive strategies; raw JPEG sizes)
        self.airtime_s = 0.0  # time on air of every frame attempt, s
        self.snr_db = 0.0  # SNR summed over frame attempts (dB; a mean once finished), where modelled
        self.server = -1  # edge server whose gateway received the first frame (-1: none did)
