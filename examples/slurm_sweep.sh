#!/bin/bash
# A catvae sweep spread over a Slurm job array: task I of N runs the grid
# points whose index mod N is I, into one folder every node can see.
#   sbatch examples/slurm_sweep.sh           # submit (again, to resume)
#   npx catvae sweep-report "$SWEEP_DIR"     # the merged table, once all tasks ended
# Resubmitting the same script skips finished points and resumes the others
# from their latest checkpoint. At the time limit Slurm sends SIGTERM: each
# training run saves a checkpoint and stops (--signal gives it 5 minutes).
#SBATCH --job-name=catvae-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=12:00:00
#SBATCH --signal=B:TERM@300
#SBATCH --output=slurm-catvae-sweep-%A_%a.out
set -euo pipefail

# A folder on a file system shared by the nodes (NFS, Lustre, GPFS...).
SWEEP_DIR=${SWEEP_DIR:-$HOME/catvae-sweeps/latents}
# How to start catvae: the installed bin, or `npm run --silent sweep --` from a checkout.
CATVAE=${CATVAE:-npx catvae}

# Each task trains --parallel runs at once, one per allotted core (tfjs-wasm
# under Node is single-threaded, so runs, not threads, use the cores).
exec $CATVAE sweep \
  --out "$SWEEP_DIR" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" \
  --parallel "${SLURM_CPUS_PER_TASK:-1}" \
  --grid latent-vars=20,30 --grid categories=10,20 --grid seed=1,2 \
  --steps 50000 --log-every 500 --no-progress
