#!/usr/bin/env python3
"""Recompute a trialdesk trial's allocations from its disclosed seed and compare them with the export.

Usage:
  python3 scripts/verify-allocations.py --seed HEX --config trial.json --allocations allocations.csv \
      [--commitment HEX]

`trial.json` is the trial as the API returns it (only `arms` and `randomization` are read).
`allocations.csv` has the columns
  sequenceNumber,stratum,blockNumber,blockSize,positionInBlock,arm,participantId,randomizedAt,errorFlag
plus, for minimization, one column per minimization factor holding the participant's level, and optionally
`importId`: a row with an import id was migrated in with the trial's history (its arm came from the system the
trial left, not from the seed), so it is not recomputed; the seed's sequence in its stratum starts after the
highest imported sequence number (docs/interoperability.md).

Exit status: 0 when every allocation (and the commitment, when given) matches; 1 when anything does not;
2 when the input cannot be verified (unreadable files, missing columns, the `list` method).

The algorithm is specified byte by byte in docs/randomization.md. This file is written independently of
the TypeScript implementation and uses only the Python standard library, so that a statistician can
check the service with nothing but Python 3.
"""

import argparse
import bisect
import csv
import hashlib
import hmac
import json
import math
import sys
from decimal import Decimal
from fractions import Fraction

RANDOMIZATION_DOMAIN = "trialdesk/randomization/v1"
MASK_DOMAIN = "trialdesk/mask/v1"
COMMITMENT_DOMAIN = "trialdesk/commitment/v1"
MINIMIZATION_STRATUM_KEY = ""
DEFAULT_MINIMIZATION_P = 0.8
DEFAULT_IMBALANCE_MEASURE = "range"
TWO_POW_64 = 2**64


class UnverifiableInput(Exception):
    """The input is not something this script can check; reported with exit status 2."""


# --- the random stream ----------------------------------------------------------------------------

def parse_seed(seed_hex):
    if len(seed_hex) != 64:
        raise UnverifiableInput("the seed must be exactly 64 hex digits")
    try:
        return bytes.fromhex(seed_hex)
    except ValueError as error:
        raise UnverifiableInput("the seed must be exactly 64 hex digits") from error


def uint64(value):
    return value.to_bytes(8, "big")


def length_prefixed(text):
    data = text.encode("utf-8")
    return uint64(len(data)) + data


def draw_message(stratum_key, block_number, draw_index, rejection_counter):
    return (
        length_prefixed(RANDOMIZATION_DOMAIN)
        + length_prefixed(stratum_key)
        + uint64(block_number)
        + uint64(draw_index)
        + uint64(rejection_counter)
    )


def draw_word(seed, stratum_key, block_number, draw_index, rejection_counter):
    message = draw_message(stratum_key, block_number, draw_index, rejection_counter)
    digest = hmac.new(seed, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def accept_uniform_int(word, n):
    """word mod n, or None when word lies in the biased tail [2^64 - (2^64 mod n), 2^64)."""
    accepted_limit = TWO_POW_64 - (TWO_POW_64 % n)
    return word % n if word < accepted_limit else None


def uniform_int(seed, stratum_key, block_number, draw_index, n):
    if n == 1:
        return 0
    rejection_counter = 0
    while True:
        word = draw_word(seed, stratum_key, block_number, draw_index, rejection_counter)
        accepted = accept_uniform_int(word, n)
        if accepted is not None:
            return accepted
        rejection_counter += 1


def uniform_real(seed, stratum_key, block_number, draw_index):
    return (draw_word(seed, stratum_key, block_number, draw_index, 0) >> 11) / 2**53


# --- strata ---------------------------------------------------------------------------------------

def encode_stratum_component(text):
    return text.replace("%", "%25").replace("|", "%7C").replace("=", "%3D")


def decode_stratum_component(text):
    return text.replace("%3D", "=").replace("%7C", "|").replace("%25", "%")


def stratum_key(stratify_by, levels):
    return "|".join(
        encode_stratum_component(factor) + "=" + encode_stratum_component(levels[factor])
        for factor in stratify_by
    )


def stratum_factor_names(key):
    """The factor names of a canonical stratum key, in order; None when the key is malformed."""
    if key == "":
        return []
    names = []
    for part in key.split("|"):
        pieces = part.split("=")
        if len(pieces) != 2:
            return None
        names.append(decode_stratum_component(pieces[0]))
    return names


# --- allocation methods ---------------------------------------------------------------------------

def arm_at_ratio_index(arms, index):
    run_end = 0
    for arm in arms:
        run_end += arm["ratio"]
        if index < run_end:
            return arm["code"]
    raise ValueError("ratio index outside the ratio sum")


def simple_allocation(seed, arms, key, sequence_number):
    total = sum(arm["ratio"] for arm in arms)
    return arm_at_ratio_index(arms, uniform_int(seed, key, sequence_number, 0, total))


def generate_block(seed, arms, block_sizes, key, block_number):
    """(block size, arm codes in allocation order) of block `block_number` (1-based) of a stratum."""
    block_size = block_sizes[uniform_int(seed, key, block_number, 0, len(block_sizes))]
    copies_per_ratio_unit = block_size // sum(arm["ratio"] for arm in arms)
    block = [arm["code"] for arm in arms for _ in range(arm["ratio"] * copies_per_ratio_unit)]
    for i in range(block_size - 1, 0, -1):
        j = uniform_int(seed, key, block_number, block_size - i, i + 1)
        block[i], block[j] = block[j], block[i]
    return block_size, block


class StratumBlocks:
    """Walks a stratum's blocks from block 1, remembering where each starts. Block 1 starts after the
    imported slots (`imported` = the highest imported sequence number, 0 when none)."""

    def __init__(self, seed, arms, block_sizes, key, imported=0):
        self.seed, self.arms, self.block_sizes, self.key = seed, arms, block_sizes, key
        self.first = imported + 1
        self.starts = []  # start sequence of block number index + 1
        self.blocks = []  # arms of block number index + 1

    def slot(self, sequence_number):
        """(block number, block size, 1-based position in block, arm) of a sequence number."""
        if sequence_number < self.first:
            raise UnverifiableInput("sequence numbers start at %d, found %d" % (self.first, sequence_number))
        while not self.blocks or self.starts[-1] + len(self.blocks[-1]) <= sequence_number:
            start = self.starts[-1] + len(self.blocks[-1]) if self.blocks else self.first
            _, block = generate_block(self.seed, self.arms, self.block_sizes, self.key, len(self.blocks) + 1)
            self.starts.append(start)
            self.blocks.append(block)
        index = bisect.bisect_right(self.starts, sequence_number) - 1
        block = self.blocks[index]
        position = sequence_number - self.starts[index] + 1
        return index + 1, len(block), position, block[position - 1]


def minimization_imbalances(arms, factors, counts, levels, measure):
    """Total imbalance per arm (trial order) if the participant joined that arm, as exact fractions."""
    totals = []
    for candidate in arms:
        total = Fraction(0)
        for factor in factors:
            by_arm = counts.get(factor, {}).get(levels[factor], {})
            adjusted = [
                Fraction(by_arm.get(arm["code"], 0) + (1 if arm is candidate else 0), arm["ratio"])
                for arm in arms
            ]
            if measure == "range":
                total += max(adjusted) - min(adjusted)
            else:
                mean = sum(adjusted) / len(adjusted)
                total += sum((x - mean) ** 2 for x in adjusted) / len(adjusted)
        totals.append(total)
    return totals


def minimization_allocation(seed, arms, factors, counts, levels, measure, p, sequence_number):
    imbalances = minimization_imbalances(arms, factors, counts, levels, measure)
    least = min(imbalances)
    minimizing = [arm["code"] for arm, score in zip(arms, imbalances) if score == least]
    key, block = MINIMIZATION_STRATUM_KEY, sequence_number
    follow_preference = uniform_real(seed, key, block, 0) < p
    preferred = minimizing[uniform_int(seed, key, block, 1, len(minimizing))]
    if follow_preference:
        return preferred
    others = [arm["code"] for arm in arms if arm["code"] != preferred]
    return others[uniform_int(seed, key, block, 2, len(others))]


def masked_arm_labels(seed, arms):
    """[(label, arm code)] in masked order: Group 1 first."""
    def mask_digest(arm):
        message = length_prefixed(MASK_DOMAIN) + length_prefixed(arm["code"])
        return hmac.new(seed, message, hashlib.sha256).digest()
    ordered = sorted(arms, key=mask_digest)
    return [("Group %d" % (index + 1), arm["code"]) for index, arm in enumerate(ordered)]


# --- commitment -----------------------------------------------------------------------------------

def ecmascript_number(value):
    """A number as ECMAScript's Number.prototype.toString writes it (RFC 8785, section 3.2.2.3)."""
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise ValueError("canonical JSON has no representation for %r" % value)
    if x == 0:
        return "0"
    if x < 0:
        return "-" + ecmascript_number(-x)
    sign, digit_tuple, exponent = Decimal(repr(x)).normalize().as_tuple()
    digits = "".join(str(d) for d in digit_tuple)
    k = len(digits)
    n = exponent + k  # value = 0.digits x 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return "%se%s%d" % (mantissa, "+" if n - 1 >= 0 else "-", abs(n - 1))


def canonical_json(value):
    """RFC 8785 canonical JSON: sorted keys (UTF-16 code units), no whitespace, ECMAScript numbers."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return ecmascript_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(key, ensure_ascii=False) + ":" + canonical_json(value[key]) for key in keys) + "}"
    raise ValueError("canonical JSON has no representation for %r" % (value,))


def canonical_randomization_config(config):
    arms = [{"code": arm["code"], "ratio": arm["ratio"]} for arm in config["arms"]]
    randomization = config["randomization"]
    method = randomization["method"]
    if method in ("simple", "list"):
        settings = {"method": method, "stratifyBy": randomization.get("stratifyBy", [])}
    elif method == "permuted_block":
        settings = {
            "method": method,
            "blockSizes": randomization["blockSizes"],
            "stratifyBy": randomization.get("stratifyBy", []),
        }
    elif method == "minimization":
        settings = {
            "method": method,
            "factors": randomization["factors"],
            "p": randomization.get("p", DEFAULT_MINIMIZATION_P),
            "imbalance": randomization.get("imbalance", DEFAULT_IMBALANCE_MEASURE),
        }
    else:
        raise UnverifiableInput("unknown randomization method %r" % method)
    return {"arms": arms, "randomization": settings}


def allocation_commitment(seed_hex, config):
    preimage = "%s\n%s\n%s" % (
        COMMITMENT_DOMAIN,
        seed_hex.lower(),
        canonical_json(canonical_randomization_config(config)),
    )
    return hashlib.sha256(preimage.encode("utf-8")).hexdigest()


# --- verification ---------------------------------------------------------------------------------

def sequence_problems(label, sequence_numbers, imported=()):
    """Sequence numbers of a stratum must run 1, 2, 3, ... with no gap or repeat; after imported ones
    (which may have gaps, the previous system's business, but never repeat) they run from the highest
    imported number + 1."""
    problems = []
    if len(set(imported)) != len(imported):
        problems.append("%s: imported sequence numbers repeat: %s" % (label, _abbreviated(sorted(imported))))
    first = max(imported, default=0) + 1
    for expected, actual in enumerate(sequence_numbers, start=first):
        if actual != expected:
            problems.append("%s: sequence numbers run %s, expected %d..%d without gaps or repeats"
                            % (label, _abbreviated(sequence_numbers), first, first + len(sequence_numbers) - 1))
            break
    return problems


def is_imported(row):
    return bool(row.get("importId"))


def _abbreviated(numbers):
    shown = ", ".join(str(n) for n in numbers[:12])
    return shown + (", ..." if len(numbers) > 12 else "")


def stratum_label(key):
    return "stratum %s" % json.dumps(key, ensure_ascii=False)


def check_field(problems, where, name, recorded, expected):
    if recorded != str(expected):
        problems.append("%s: %s is %s, expected %s" % (where, name, recorded or "(empty)", expected))


def verify_rows(seed, config, rows, fieldnames):
    """(problems, number of strata) for the allocation rows."""
    arms = config["arms"]
    randomization = config["randomization"]
    method = randomization["method"]
    if method == "list":
        raise UnverifiableInput(
            "the list method allocates from the uploaded table, not from a seed; compare the export "
            "with the uploaded table instead")
    problems = []
    strata = {}  # the rows the seed decided, by stratum
    imported = {}  # the imported sequence numbers, by stratum
    all_rows = {}  # every row, by stratum, for minimization's replay
    for row in rows:
        try:
            row["_sequence"] = int(row["sequenceNumber"])
        except ValueError as error:
            raise UnverifiableInput("sequenceNumber %r is not an integer" % row["sequenceNumber"]) from error
        all_rows.setdefault(row["stratum"], []).append(row)
        if is_imported(row):
            imported.setdefault(row["stratum"], []).append(row["_sequence"])
            strata.setdefault(row["stratum"], [])
        else:
            strata.setdefault(row["stratum"], []).append(row)

    stratify_by = randomization.get("stratifyBy", []) if method != "minimization" else []
    for key in strata:
        strata[key].sort(key=lambda row: row["_sequence"])
        all_rows[key].sort(key=lambda row: row["_sequence"])
        if stratum_factor_names(key) != stratify_by:
            problems.append("%s is not a canonical key over the factors %s"
                            % (stratum_label(key), ", ".join(stratify_by) or "(none)"))
        problems += sequence_problems(stratum_label(key), [row["_sequence"] for row in strata[key]],
                                      imported.get(key, []))

    if method == "simple":
        for key, stratum_rows in strata.items():
            for row in stratum_rows:
                where = "%s sequence %d" % (stratum_label(key), row["_sequence"])
                check_field(problems, where, "arm", row["arm"], simple_allocation(seed, arms, key, row["_sequence"]))
    elif method == "permuted_block":
        ratio_sum = sum(arm["ratio"] for arm in arms)
        if any(size % ratio_sum != 0 for size in randomization["blockSizes"]):
            raise UnverifiableInput("every block size must be a multiple of the ratio sum %d" % ratio_sum)
        for key, stratum_rows in strata.items():
            blocks = StratumBlocks(seed, arms, randomization["blockSizes"], key, max(imported.get(key, []), default=0))
            for row in stratum_rows:
                where = "%s sequence %d" % (stratum_label(key), row["_sequence"])
                number, size, position, arm = blocks.slot(row["_sequence"])
                check_field(problems, where, "blockNumber", row["blockNumber"], number)
                check_field(problems, where, "blockSize", row["blockSize"], size)
                check_field(problems, where, "positionInBlock", row["positionInBlock"], position)
                check_field(problems, where, "arm", row["arm"], arm)
    elif method == "minimization":
        problems += verify_minimization(seed, arms, randomization, all_rows, fieldnames)
    else:
        raise UnverifiableInput("unknown randomization method %r" % method)
    return problems, len(strata)


def verify_minimization(seed, arms, randomization, strata, fieldnames):
    """Replays the trial in sequence order; each choice is checked against the counts of the
    allocations recorded before it, as the service saw them. Imported rows count, unchecked."""
    factors = randomization["factors"]
    missing = [factor for factor in factors if factor not in fieldnames]
    if missing:
        raise UnverifiableInput(
            "minimization needs each participant's level of every factor; add the column(s) %s"
            % ", ".join(missing))
    p = randomization.get("p", DEFAULT_MINIMIZATION_P)
    measure = randomization.get("imbalance", DEFAULT_IMBALANCE_MEASURE)
    counts = {}
    problems = []
    for row in strata.get(MINIMIZATION_STRATUM_KEY, []):
        levels = {factor: row[factor] for factor in factors}
        if not is_imported(row):
            expected = minimization_allocation(seed, arms, factors, counts, levels, measure, p, row["_sequence"])
            check_field(problems, "sequence %d" % row["_sequence"], "arm", row["arm"], expected)
        for factor in factors:
            by_arm = counts.setdefault(factor, {}).setdefault(levels[factor], {})
            by_arm[row["arm"]] = by_arm.get(row["arm"], 0) + 1
    return problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", required=True, help="the trial's 256-bit seed, 64 hex digits")
    parser.add_argument("--config", required=True, help="the trial JSON as the API returns it")
    parser.add_argument("--allocations", required=True, help="the allocation export, CSV")
    parser.add_argument("--commitment", help="the commitment published at activation, 64 hex digits")
    args = parser.parse_args(argv)
    try:
        seed = parse_seed(args.seed)
        with open(args.config, encoding="utf-8") as config_file:
            config = json.load(config_file)
        with open(args.allocations, encoding="utf-8", newline="") as csv_file:
            reader = csv.DictReader(csv_file)
            rows = list(reader)
            fieldnames = reader.fieldnames or []
        required = ["sequenceNumber", "stratum", "blockNumber", "blockSize", "positionInBlock", "arm"]
        absent = [column for column in required if column not in fieldnames]
        if absent:
            raise UnverifiableInput("the allocations file lacks the column(s) %s" % ", ".join(absent))
        problems, strata_count = verify_rows(seed, config, rows, fieldnames)
    except (OSError, ValueError, KeyError, UnverifiableInput) as error:
        print("cannot verify: %s" % error, file=sys.stderr)
        return 2

    commitment_status = "not checked"
    if args.commitment is not None:
        computed = allocation_commitment(args.seed, config)
        if computed == args.commitment.lower():
            commitment_status = "matches"
        else:
            commitment_status = "DOES NOT MATCH (published %s, computed %s)" % (args.commitment, computed)
            problems.append("commitment: published %s, computed from seed and config %s"
                            % (args.commitment, computed))

    for problem in problems:
        print("mismatch: %s" % problem)
    print("method: %s" % config["randomization"]["method"])
    imported_count = sum(1 for row in rows if is_imported(row))
    print("rows checked: %d" % (len(rows) - imported_count))
    if imported_count:
        print("imported rows (not recomputed from the seed): %d" % imported_count)
    print("strata: %d" % strata_count)
    print("mismatches: %d" % len(problems))
    print("commitment: %s" % commitment_status)
    print("masked labels: %s" % ", ".join("%s = %s" % pair for pair in masked_arm_labels(seed, config["arms"])))
    print("result: %s" % ("OK" if not problems else "FAILED"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
