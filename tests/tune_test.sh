#!/usr/bin/env bash
# End-to-end tests of kiln tune: a 3-trial random search of 1-epoch MLPs on 5,000 Fashion-MNIST
# images (the CSV, the table, the best model, the picture), resuming and overwriting a search,
# the errors people will meet, and a small Hyperband. Usage: tune_test.sh PATH/TO/kiln
set -u
source "$(dirname "$0")/check.sh"

cat >"$WORK/space.json" <<'EOF2'
{"recipe": {"model": "mlp", "epochs": 1, "batch_size": 64},
 "objective": "val_accuracy", "tuner": "random", "max_trials": 3, "seed": 5,
 "hyperparameters": {"learning_rate": {"type": "float", "min": 1e-3, "max": 1e-1, "sampling": "log"},
                     "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
                     "batch_size": {"type": "int", "min": 32, "max": 128, "step": 32}}}
EOF2
tune() { "$KILN" tune "$WORK/space.json" --directory "$WORK/runs" --validation-size 55000 --threads 2 "$@" 2>&1; }

out=$(tune)
check "tune exits 0" test $? -eq 0
check "tune prints the table's header" matches "$out" '^ trial  learning_rate   optimizer  batch_size  val_accuracy        best  epochs   seconds$'
check "tune prints a line per trial" test "$(grep -cE '^ +[123] +[0-9.e-]+ +(sgd|adam) +(32|64|96|128) +0\.[0-9]{4} +0\.[0-9]{4} +1 +[0-9.]+$' <<<"$out")" -eq 3
check "tune prints the summary" contains "$out" 'Objective(name="val_accuracy", direction="max")'
csv="$WORK/runs/space/results.csv"
check "results.csv has its header" test "$(head -1 "$csv")" = "trial,learning_rate,optimizer,batch_size,score,epochs,seconds"
check "results.csv has a row per trial" test "$(tail -n +2 "$csv" | wc -l)" -eq 3
check "each trial has trial.json" test -s "$WORK/runs/space/trial_0003/trial.json"
check "tune draws search.png" test -s "$WORK/runs/space/search.png"
best=$(tail -n +2 "$csv" | cut -d, -f5 | sort -g | tail -1)
json=$("$KILN" evaluate "$WORK/runs/space/best" --split train --json 2>&1)
check "the best model evaluates (got $json)" matches "$json" '^\{"loss":[0-9.e-]+,"accuracy":[0-9.e-]+\}$'
check "the best score is a real accuracy ($best)" awk -v a="$best" 'BEGIN { exit !(a > 0.5 && a <= 1) }'

# An existing folder: an error naming it, unless --resume or --overwrite.
out=$(tune)
check "an existing folder is an error" test $? -ne 0
check "the error names the folder and the flags" contains "$out" "the search folder '$WORK/runs/space' exists: pass --resume to continue its search or --overwrite to start a new one"
sed -i 's/"max_trials": 3/"max_trials": 4/' "$WORK/space.json"
before=$(tail -n +2 "$csv")
out=$(tune --resume)
check "--resume exits 0" test $? -eq 0
check "--resume recalls the 3 completed trials" test "$(grep -c '(earlier run)' <<<"$out")" -eq 3
check "--resume runs the 4th" test "$(tail -n +2 "$csv" | wc -l)" -eq 4
check "--resume keeps the earlier rows" test "$(tail -n +2 "$csv" | head -3)" = "$before"
out=$(tune --overwrite)
check "--overwrite exits 0" test $? -eq 0
check "--overwrite reruns every trial" test "$(grep -c '(earlier run)' <<<"$out")" -eq 0
check "--overwrite gives the same trials for the seed" test "$(tail -n +2 "$csv" | cut -d, -f1-4 | head -3)" = "$(cut -d, -f1-4 <<<"$before")"
out=$(tune --resume --overwrite)
check "--resume and --overwrite exclude each other" test $? -ne 0

# Errors: an unknown field, an argument the optimizer does not take (named with its trial).
echo '{"recipe": {}, "max_trial": 3, "hyperparameters": {"learning_rate": {"type": "float", "min": 0.01, "max": 0.1}}}' >"$WORK/bad.json"
out=$("$KILN" tune "$WORK/bad.json" --directory "$WORK/runs" 2>&1)
check "an unknown field is an error naming it" contains "$out" "unknown field 'max_trial'"
echo '{"recipe": {"optimizer": {"class_name": "SGD"}, "epochs": 1}, "max_trials": 1,
  "hyperparameters": {"rho": {"type": "float", "min": 0.8, "max": 0.9}}}' >"$WORK/rho.json"
out=$("$KILN" tune "$WORK/rho.json" --directory "$WORK/runs" --validation-size 59000 2>&1)
check "an argument SGD does not take fails" test $? -ne 0
check "the error names the trial and the argument ($out)" matches "$out" "trial 1 \(\{\"rho\":0\.[0-9]+\}\): .*rho"

# Hyperband: max_epochs 3, factor 3: brackets of 3 trials at 1 epoch then 1 at 3, and 2 at 3.
cat >"$WORK/hb.json" <<'EOF2'
{"recipe": {"model": "mlp", "batch_size": 128}, "tuner": "hyperband", "max_epochs": 3, "factor": 3, "seed": 1,
 "hyperparameters": {"learning_rate": {"type": "float", "min": 1e-3, "max": 1e-1, "sampling": "log"}}}
EOF2
out=$("$KILN" tune "$WORK/hb.json" --directory "$WORK/runs" --validation-size 58000 --threads 2 2>&1)
check "hyperband exits 0" test $? -eq 0
check "hyperband runs 3 + 1 + 2 trials" test "$(tail -n +2 "$WORK/runs/hb/results.csv" | cut -d, -f4 | tr '\n' ' ')" = "1 1 1 3 3 3 "

finish
