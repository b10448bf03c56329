# Sourced (not run) by the scripts a lent GPU machine runs in one call: gpu_session.sh,
# gpu_check.sh, gpu_ab.sh and gpu_serve.sh. From the repository root, with $OUT set:
#
#   lease_begin LOG   everything printed goes to $OUT/LOG as well (at most 8 files come
#                     back from a lease: one log); the engine runs from this checkout
#                     (PYTHONPATH=.), with the carried wheels of .whl/ (mido and
#                     python-osc, which the lent machine lacks) installed into /tmp/site;
#                     $WHEELS is ":/tmp/site" then (else empty), for a PYTHONPATH of
#                     another checkout; status=0
#   stage NAME        a heading with the seconds since lease_begin
#   lease_machine     the GPU, python, torch and CUDA versions, the cores and the commit
#   "${DIFFJAM[@]}"   the diffjam command, without installing the project

DIFFJAM=(python3 -c 'import sys; from diffjam.cli import main; sys.exit(main(sys.argv[1:]))')

lease_begin() {
    : "${OUT:?set OUT to the folder whose files come back}"
    mkdir -p "$OUT"
    exec > >(tee "$OUT/$1") 2>&1
    export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
    WHEELS=""
    if ls .whl/*.whl >/dev/null 2>&1 && python3 -m pip install -q --no-index --no-deps \
            --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl; then
        WHEELS=":/tmp/site"
        export PYTHONPATH="$PYTHONPATH$WHEELS"
    fi
    status=0
    began=$SECONDS
}

stage() { echo "=== $1 ($((SECONDS - began)) s)"; }

lease_machine() {
    { nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv \
          || true
      python3 -c 'import torch, sys; print("python", sys.version.split()[0], "torch",
                  torch.__version__, "cuda", torch.version.cuda)'
      nproc
      git log -1 --format='commit %h %s' 2>/dev/null || true; } 2>&1
}
