#!/usr/bin/env bash
# End-to-end tests of the kiln command-line tool: train a small run, then evaluate, predict and
# summarize the saved model, and check the errors people will meet. Usage: cli_test.sh PATH/TO/kiln
set -u
source "$(dirname "$0")/check.sh"

# Train one epoch on the real data, fast: a smaller validation set, one line per epoch.
out=$("$KILN" train --epochs 1 --validation-size 1000 --verbose 2 --seed 7 --output "$WORK/model" 2>&1)
rc=$?
check "train exits 0" test $rc -eq 0
check "train prints the Keras summary" contains "$out" "Total params: 266,610"
check "train prints a Keras epoch line" matches "$out" '^1844/1844 - [0-9]+s - loss: [0-9.]+ - accuracy: [0-9.]+ - val_loss: [0-9.]+ - val_accuracy: [0-9.]+ - [0-9]+s/epoch - [0-9]+(us|ms)/step$'
check "train writes config.json" test -s "$WORK/model/config.json"
check "train writes model.safetensors" test -s "$WORK/model/model.safetensors"
check "train writes history.csv" test "$(head -1 "$WORK/model/history.csv")" = "epoch,accuracy,loss,val_accuracy,val_loss"
train_acc=$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$out")
check "train reports test accuracy above 0.75 (got '$train_acc')" awk -v a="$train_acc" 'BEGIN { exit !(a > 0.75) }'

# With a progress bar but no terminal, each epoch prints its finished line once: no carriage returns.
out=$("$KILN" train --epochs 1 --validation-size 50000 --verbose 1 --output "$WORK/piped" 2>&1)
check "piped progress bar has no carriage returns" test "$(tr -cd '\r' <<<"$out" | wc -c)" -eq 0
check "piped progress bar prints the finished epoch" matches "$out" '^313/313 \[=+\] - [0-9]+s [0-9]+(us|ms)/step - loss: [0-9.]+ - accuracy: [0-9.]+ - val_loss'

# evaluate reproduces the accuracy train reported.
json=$("$KILN" evaluate "$WORK/model" --json)
check "evaluate --json prints loss and accuracy" matches "$json" '^\{"loss":[0-9.e-]+,"accuracy":[0-9.e-]+\}$'
eval_acc=$(printf '%.4f' "$(sed -n 's/.*"accuracy":\([0-9.e-]*\).*/\1/p' <<<"$json")")
check "evaluate reproduces train's test accuracy ($eval_acc vs $train_acc)" test "$eval_acc" = "$train_acc"
tta=$("$KILN" evaluate "$WORK/model" --tta flip --json 2>&1)
check "evaluate --tta flip prints an accuracy" contains "$tta" '"accuracy"'
check "evaluate --tta flip differs from the plain forward pass" test "$tta" != "$("$KILN" evaluate "$WORK/model" --json 2>&1)"
err=$("$KILN" evaluate "$WORK/model" --tta rotate 2>&1)
check "evaluate names the augmentations it knows" contains "$err" "--tta: rotate not in {flip}"
human=$("$KILN" evaluate "$WORK/model" --split train 2>&1)
check "evaluate prints a Keras progress line" matches "$human" '1875/1875 \[=+\] - [0-9]+s .*- loss: [0-9.]+ - accuracy: [0-9.]+'

# predict on dataset indices and on PNG files.
pred=$("$KILN" predict "$WORK/model" --indices 0:3)
check "predict --indices prints one line per image" test "$(wc -l <<<"$pred")" -eq 3
check "predict names the class" matches "$pred" '^test\[0\]: [A-Za-z/ -]+ \(0\.[0-9]{4}\)$'
pj=$("$KILN" predict "$WORK/model" --indices 5 --json)
check "predict --json has index, class, label, probabilities" matches "$pj" '^\{"index":5,"class":[0-9],"label":"[^"]+","probabilities":\[[^]]+\]\}$'

# A 28x28 grayscale PNG via the library's own writer would need C++; write one with Python's
# standard library instead (zlib + struct), and an RGB one for the error path.
python3 - "$WORK" <<'PY'
import struct, sys, zlib
def png(path, w, h, color_type, channels):
    raw = b"".join(b"\x00" + bytes((x * 9 + y) % 256 for x in range(w * channels)) for y in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)
png(sys.argv[1] + "/gray.png", 28, 28, 0, 1)
png(sys.argv[1] + "/rgb.png", 28, 28, 2, 3)
png(sys.argv[1] + "/big.png", 32, 32, 0, 1)
PY
pf=$("$KILN" predict "$WORK/model" "$WORK/gray.png" --json)
check "predict on a PNG" matches "$pf" '^\{"file":".*gray.png","class":[0-9],"label":"[^"]+","probabilities":\[[^]]+\]\}$'
# Any PNG is converted to the model's channels and resized to its input (bilinear, as saved).
out=$("$KILN" predict "$WORK/model" "$WORK/rgb.png" "$WORK/big.png" 2>&1); rc=$?
check "predict converts RGB and resizes 32x32 (exit $rc: $out)" test $rc -eq 0
check "predict prints a line for each converted file" test "$(grep -c '\.png: .* (0\.[0-9]*)$' <<<"$out")" -eq 2
printf 'not a picture' > "$WORK/text.png"
err=$("$KILN" predict "$WORK/model" "$WORK/text.png" 2>&1); rc=$?
check "predict refuses a file that is no image (exit $rc)" test $rc -ne 0
check "predict names the file that is no image" contains "$err" "$WORK/text.png: not an image kiln reads (PNG, JPEG, BMP or GIF)"
head -c 100 "$WORK/big.png" > "$WORK/cut.png"
err=$("$KILN" predict "$WORK/model" "$WORK/cut.png" 2>&1)
check "predict names a truncated PNG" contains "$err" "$WORK/cut.png: corrupt PNG data"
err=$("$KILN" predict "$WORK/model" --indices 9999:10001 2>&1)
check "predict rejects out-of-range indices" contains "$err" "outside the split's 10000 images"

# summary of the saved model.
sum=$("$KILN" summary "$WORK/model")
check "summary prints the table" contains "$sum" " dense_1 (Dense)             (None, 100)               30100     "

# An architecture file: the saved config.json trains a fresh model of the same shape.
out=$("$KILN" train --model "$WORK/model/config.json" --epochs 1 --validation-size 59000 --verbose 0 \
      --optimizer adam --output "$WORK/from_file" 2>&1)
check "train --model FILE.json with adam" contains "$out" "Saved the model to $WORK/from_file"
check "the new model keeps the architecture" contains "$(cat "$WORK/from_file/config.json")" '"class_name": "Adam"'
out=$("$KILN" train --epochs 1 --validation-size 59000 --verbose 0 --lr-schedule cosine --weight-decay 0.001 \
      --use-ema --ema-momentum 0.9 --output "$WORK/scheduled" 2>&1)
config=$(cat "$WORK/scheduled/config.json")
check "train --lr-schedule cosine saves Keras's CosineDecay" contains "$config" '"class_name": "CosineDecay"'
check "the schedule spans the run's steps (1000 images / 32)" contains "$config" '"decay_steps": 32'
check "train --weight-decay saves the optimizer's weight_decay" contains "$config" '"weight_decay": 0.001'
check "train --use-ema saves the optimizer's use_ema" contains "$config" '"use_ema": true'
check "train --ema-momentum saves the optimizer's ema_momentum" contains "$config" '"ema_momentum": 0.9'
err=$("$KILN" train --schedule hourly 2>&1)
check "train names the schedules it knows" contains "$err" "--schedule: hourly not in {constant,cosine,linear,exponential,inverse_time,step,cosine_restarts}"

# Whole training runs, in the normal build only: under the sanitizers each takes minutes, and
# the library code they reach is tested there in-process (optimizer, callback and loss tests).
if [ -z "${KILN_SANITIZED:-}" ]; then
  # Every optimizer by name, with its Keras arguments; recipe.json repeats a run to the bit.
  out=$("$KILN" train --epochs 1 --validation-size 59000 --verbose 0 --seed 3 --optimizer rmsprop --optimizer-arg rho=0.95 \
        --optimizer-arg centered=true --clipnorm 1 --schedule cosine --warmup-epochs 0 --output "$WORK/rmsprop" 2>&1)
  config=$(cat "$WORK/rmsprop/config.json")
  check "train --optimizer rmsprop saves RMSprop" contains "$config" '"class_name": "RMSprop"'
  check "train --optimizer-arg sets a Keras argument" contains "$config" '"rho": 0.95'
  check "train --clipnorm saves the optimizer's clipnorm" contains "$config" '"clipnorm": 1.0'
  check "train writes recipe.json" contains "$(cat "$WORK/rmsprop/recipe.json")" '"schedule": "cosine"'
  "$KILN" train --recipe "$WORK/rmsprop/recipe.json" --verbose 0 --output "$WORK/rmsprop_again" >/dev/null 2>&1
  check "train --recipe repeats the run to the bit" cmp "$WORK/rmsprop/model.safetensors" "$WORK/rmsprop_again/model.safetensors"
  out=$("$KILN" train --recipe "$WORK/rmsprop/recipe.json" --optimizer-arg rho=0.5 --verbose 0 --output "$WORK/rmsprop_rho" 2>&1)
  check "a flag overrides the recipe's value" contains "$(cat "$WORK/rmsprop_rho/recipe.json")" '"rho": 0.5'
  check "a flag keeps the recipe's other values" contains "$(cat "$WORK/rmsprop_rho/recipe.json")" '"centered": true'
  for optimizer in sgd adam adamw adagrad adamax nadam lion; do
    out=$("$KILN" train --epochs 1 --validation-size 55000 --verbose 0 --optimizer $optimizer --output "$WORK/opt_$optimizer" 2>&1)
    acc=$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$out")
    check "train --optimizer $optimizer learns from 5000 images (got '$acc')" awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }'
  done
else
  echo "skipped in the sanitizer build: the runs of every optimizer and of recipe.json"
fi
err=$("$KILN" train --optimizer adam --momentum 0.9 2>&1)
check "an argument the optimizer does not take is an error naming it" contains "$err" "unknown field 'momentum' (0.9); it takes amsgrad, beta_1"
err=$("$KILN" train --optimizer-arg rho 2>&1)
check "--optimizer-arg explains its form" contains "$err" "--optimizer-arg takes KEY=VALUE"
err=$("$KILN" train --schedule step --warmup-epochs 2 2>&1)
check "warm-up is for the cosine schedule" contains "$err" "--warmup-epochs applies to --schedule cosine"
# Whole training runs, in the normal build only: under the sanitizers each takes minutes, and
# the library code they reach is tested there in-process (optimizer, callback and loss tests).
if [ -z "${KILN_SANITIZED:-}" ]; then
  out=$("$KILN" train --epochs 3 --validation-size 55000 --verbose 2 --early-stopping 1 --checkpoint-best \
        --output "$WORK/callbacks" 2>&1)
  check "train --checkpoint-best keeps the best epoch's model" test -s "$WORK/callbacks/best/model.safetensors"
  check "train --checkpoint-best says so" contains "$out" "val_accuracy improved from"
  check "the recipe lists the callbacks" contains "$(cat "$WORK/callbacks/recipe.json")" '"class_name": "EarlyStopping"'
  "$KILN" evaluate "$WORK/callbacks/best" --json >/dev/null 2>&1
  check "the best epoch's model evaluates" test $? -eq 0
  out=$("$KILN" train --epochs 1 --validation-size 55000 --verbose 0 --label-smoothing 0.1 --output "$WORK/smooth" 2>&1)
  check "train --label-smoothing saves Keras's CategoricalCrossentropy" contains "$(cat "$WORK/smooth/config.json")" '"label_smoothing": 0.1'
  acc=$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$out")
  check "train --label-smoothing learns (got '$acc')" awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }'
else
  echo "skipped in the sanitizer build: the callback and label-smoothing runs"
fi
echo '{"callbacks": [{"class_name": "EarlyStopping", "config": {"patiance": 2}}]}' >"$WORK/typo_callback.json"
err=$("$KILN" train --recipe "$WORK/typo_callback.json" --epochs 1 --validation-size 59000 2>&1)
check "a callback's unknown field is an error naming it" contains "$err" "unknown field 'patiance'"
echo '{"epochs": 1, "optimiser": "adam"}' >"$WORK/typo_recipe.json"
err=$("$KILN" train --recipe "$WORK/typo_recipe.json" 2>&1)
check "a recipe's unknown field is an error naming it" contains "$err" "unknown field 'optimiser'"
echo '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"units": 3}}]}}' >"$WORK/bad.json"
err=$("$KILN" train --model "$WORK/bad.json" --epochs 1 2>&1)
check "train explains an architecture without input shape" contains "$err" "no input shape"

# A functional residual MLP written by hand in Keras 2's layout: trains, evaluates, predicts, and
# summary prints its connections and draws its graph.
cat >"$WORK/residual.json" <<'JSON'
{"class_name": "Functional", "config": {"name": "residual_mlp",
 "layers": [
  {"class_name": "InputLayer", "name": "pixels", "inbound_nodes": [],
   "config": {"batch_input_shape": [null, 28, 28], "dtype": "float32", "name": "pixels"}},
  {"class_name": "Flatten", "name": "flatten", "config": {"name": "flatten"}, "inbound_nodes": [[["pixels", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "hidden", "config": {"name": "hidden", "units": 128, "activation": "relu"},
   "inbound_nodes": [[["flatten", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "block", "config": {"name": "block", "units": 128, "activation": "relu"},
   "inbound_nodes": [[["hidden", 0, 0, {}]]]},
  {"class_name": "Add", "name": "skip", "config": {"name": "skip"}, "inbound_nodes": [[["hidden", 0, 0, {}], ["block", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "probs", "config": {"name": "probs", "units": 10, "activation": "softmax"},
   "inbound_nodes": [[["skip", 0, 0, {}]]]}],
 "input_layers": [["pixels", 0, 0]], "output_layers": [["probs", 0, 0]]}}
JSON
out=$("$KILN" train --model "$WORK/residual.json" --epochs 1 --validation-size 1000 --verbose 0 --output "$WORK/residual" 2>&1)
check "train --model on a functional file" contains "$out" "Saved the model to $WORK/residual"
res_acc=$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$out")
check "the residual MLP learns (got '$res_acc')" awk -v a="$res_acc" 'BEGIN { exit !(a > 0.75) }'
check "the saved functional config keeps the skip" contains "$(cat "$WORK/residual/config.json")" '"class_name": "Functional"'
json=$("$KILN" evaluate "$WORK/residual" --json)
res_eval=$(printf '%.4f' "$(sed -n 's/.*"accuracy":\([0-9.e-]*\).*/\1/p' <<<"$json")")
check "evaluate reproduces the functional model's accuracy ($res_eval vs $res_acc)" test "$res_eval" = "$res_acc"
pj=$("$KILN" predict "$WORK/residual" --indices 0:2 --json)
check "predict on a functional model" matches "$(head -1 <<<"$pj")" '^\{"index":0,"class":[0-9],"label":"[^"]+","probabilities":\[[^]]+\]\}$'
sum=$("$KILN" summary "$WORK/residual" --plot "$WORK/residual.png")
check "summary of a functional model has Keras's connections" contains "$sum" " skip (Add)                     (None, 128)          0           ['hidden[0][0]',"
check "summary --plot says what it wrote" contains "$sum" "Wrote $WORK/residual.png"
check "summary --plot draws a PNG" test -s "$WORK/residual.png"
"$KILN" summary "$WORK/residual" --plot "$WORK/residual.svg" >/dev/null
check "summary --plot draws an SVG with every layer" test "$(grep -c '<path\|<g ' "$WORK/residual.svg")" -gt 0
err=$("$KILN" summary "$WORK/residual" --plot "$WORK/residual.gif" 2>&1)
check "summary --plot refuses an unknown format" contains "$err" ".gif"

# Mixed precision: bf16 products, saved with the model, and evaluate computes the same way.
out=$("$KILN" train --precision bf16 --epochs 1 --validation-size 54000 --verbose 1 --output "$WORK/bf16" 2>&1)
check "train --precision bf16 says so" contains "$out" "Precision: mixed_bfloat16"
check "train --precision bf16 saves the policy" contains "$(cat "$WORK/bf16/config.json")" '"name": "mixed_bfloat16"'
bf16_acc=$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$out")
check "bf16 training learns (got '$bf16_acc')" awk -v a="$bf16_acc" 'BEGIN { exit !(a > 0.6) }'
eval_acc=$("$KILN" evaluate "$WORK/bf16" --json | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["accuracy"])')
check "evaluate reproduces bf16 training's accuracy ($eval_acc vs $bf16_acc)" test "$eval_acc" = "$bf16_acc"
# Loading a bf16 model warns about emulated products exactly when the CPU lacks AVX512_BF16.
eval_err=$("$KILN" evaluate "$WORK/bf16" --json 2>&1 >/dev/null)
pred_err=$("$KILN" predict "$WORK/bf16" --indices 0:2 2>&1 >/dev/null)
fp32_err=$("$KILN" evaluate "$WORK/model" --json 2>&1 >/dev/null)
if grep -qw avx512_bf16 /proc/cpuinfo; then
  check "evaluate on a bf16 model does not warn on an AVX512_BF16 CPU" test -z "$eval_err"
else
  check "evaluate on a bf16 model warns that bf16 is emulated" contains "$eval_err" "this CPU has no AVX512_BF16"
  check "predict on a bf16 model warns that bf16 is emulated" contains "$pred_err" "this CPU has no AVX512_BF16"
fi
check "evaluate on a float32 model does not warn" test -z "$fp32_err"
err=$("$KILN" train --precision fp16 --epochs 1 2>&1)
check "train refuses an unknown precision" contains "$err" "fp16 not in {fp32,bf16}"

# Pictures. png_size FILE prints "WIDTHxHEIGHT" from the PNG header (empty if not a PNG).
png_size() {
  python3 -c 'import struct,sys
d = open(sys.argv[1], "rb").read(24)
print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8] == b"\x89PNG\r\n\x1a\n" else "")' "$1" 2>/dev/null
}
check "train draws curves.png" test "$(png_size "$WORK/model/curves.png")" = "800x500"
out=$(cd "$WORK" && "$KILN" show --index 5 2>&1)
check "show writes one image, scaled 10x" test "$(png_size "$WORK/fashion-mnist-train-5.png")" = "300x323"
check "show says what it wrote" contains "$out" "Wrote fashion-mnist-train-5.png"
"$KILN" show --split test --indices 0:25 --scale 2 --cmap viridis --output "$WORK/grid.png" >/dev/null
check "show draws a 5x5 grid" matches "$(png_size "$WORK/grid.png")" '^[0-9]{3}x[0-9]{3}$'
"$KILN" show --indices 0:3 --output "$WORK/grid.svg" >/dev/null
check "show writes SVG" contains "$(head -c 200 "$WORK/grid.svg")" "<svg"
err=$("$KILN" show --index 60000 --output "$WORK/past.png" 2>&1); rc=$?
check "show rejects an index past the end (exit $rc)" test $rc -ne 0
check "show explains the index range" contains "$err" "--index 60000, past the end (fashion-mnist's train split has 60000 images: indices 0 to 59999)"
check "show writes nothing on error" test ! -e "$WORK/past.png"
err=$("$KILN" show --index -1 2>&1)
check "show rejects a negative index" contains "$err" "--index -1, before the start (fashion-mnist's train split"
err=$("$KILN" show --indices 5:2 2>&1)
check "show rejects an empty range" contains "$err" "--indices 5:2 selects no images"
err=$("$KILN" show --indices abc 2>&1)
check "show explains the range syntax" contains "$err" "--indices expects FIRST:END"
err=$("$KILN" show --index 1 --output "$WORK/missing/x.png" 2>&1)
check "show names a missing folder" contains "$err" "the folder '$WORK/missing' does not exist"
out=$("$KILN" plot "$WORK/model/history.csv" --output "$WORK/curves.pdf" --ylim 0:1 2>&1)
check "plot writes PDF" test "$(head -c 5 "$WORK/curves.pdf")" = "%PDF-"
"$KILN" plot "$WORK/model/history.csv" >/dev/null
check "plot defaults to curves.png beside the CSV" test "$(png_size "$WORK/model/curves.png")" = "800x500"
printf 'epoch,loss,accuracy\n0,0.5,0.8\n1,0.4\n' >"$WORK/short.csv"
err=$("$KILN" plot "$WORK/short.csv" --output "$WORK/short.png" 2>&1); rc=$?
check "plot rejects a missing column (exit $rc)" test $rc -ne 0
check "plot names the missing column" contains "$err" "line 3 is missing the 'accuracy' column"
check "plot writes nothing on error" test ! -e "$WORK/short.png"
printf 'epoch,loss\n0,zero\n' >"$WORK/word.csv"
err=$("$KILN" plot "$WORK/word.csv" --output "$WORK/word.png" 2>&1)
check "plot names a non-number" contains "$err" "column 'loss': 'zero' is not a number"
err=$("$KILN" plot "$WORK/model/history.csv" --ylim 1:0 2>&1)
check "plot rejects a reversed ylim" contains "$err" "--ylim expects LOW:HIGH with LOW < HIGH"
rep=$("$KILN" evaluate "$WORK/model" --report 2>&1)
check "evaluate --report prints the per-class table" matches "$rep" '^ +T-shirt/top +0\.[0-9]{2} +[01]\.[0-9]{2} +[01]\.[0-9]{2} +1000$'
check "evaluate --report prints the averages" matches "$rep" '^weighted avg +0\.[0-9]{2} +0\.[0-9]{2} +0\.[0-9]{2} +10000$'
check "evaluate --report draws confusion.png" matches "$(png_size "$WORK/model/confusion.png")" '^[0-9]{3}x[0-9]{3}$'
check "evaluate --report draws mistakes.png" matches "$(png_size "$WORK/model/mistakes.png")" '^[0-9]{3}x[0-9]{3}$'
rj=$("$KILN" evaluate "$WORK/model" --report --json --report-dir "$WORK" --mistakes 4)
check "evaluate --report --json adds per-class scores" matches "$rj" '"classes":\{"T-shirt/top":\{"precision":[0-9.e-]+,"recall":'
check "evaluate --report-dir" test -s "$WORK/mistakes.png"

# Errors for people.
err=$("$KILN" evaluate "$WORK/nowhere" 2>&1); rc=$?
check "evaluate on a missing folder fails" test $rc -ne 0
check "evaluate names the missing file" contains "$err" "nowhere/config.json"
err=$("$KILN" train --dataset cifar99 --epochs 1 2>&1)
check "train names an unknown dataset" contains "$err" "unknown dataset 'cifar99'"
err=$("$KILN" train --batch-size 0 2>&1); rc=$?
check "train rejects batch size 0" test $rc -ne 0
for sub in train evaluate predict summary show plot; do
  help=$("$KILN" "$sub" --help 2>&1)
  check "$sub --help" contains "$help" "Usage"
done

# A convolutional recipe, saved untrained (no epochs): what its first convolution sees of a test
# image, and its kernels.
out=$("$KILN" train --model cnn --epochs 0 --verbose 0 --output "$WORK/cnn" 2>&1)
check "train --model cnn saves a CNN" contains "$out" "Saved the model to $WORK/cnn"
check "the CNN's config has Keras's Conv2D" contains "$(cat "$WORK/cnn/config.json")" '"class_name": "Conv2D"'
check "the cnn recipe's Adam keeps a moving average" contains "$(cat "$WORK/cnn/config.json")" '"use_ema": true'
out=$("$KILN" train --model cnn --no-ema --epochs 0 --verbose 0 --output "$WORK/cnn-no-ema" 2>&1)
check "train --no-ema turns the recipe's average off" contains "$(cat "$WORK/cnn-no-ema/config.json")" '"use_ema": false'
out=$("$KILN" train --model resnet --epochs 0 --verbose 0 --output "$WORK/resnet" 2>&1)
check "train --model resnet saves a functional model" contains "$(cat "$WORK/resnet/config.json")" '"class_name": "Functional"'
check "the resnet has a skip connection at each of its three stages" \
  test "$(grep -o '"class_name": "Add"' "$WORK/resnet/config.json" | wc -l)" -eq 3
check "the resnet ends in global average pooling" contains "$(cat "$WORK/resnet/config.json")" '"class_name": "GlobalAveragePooling2D"'
recipe=$(cat "$WORK/resnet/recipe.json")
check "the resnet recipe's SGD has Nesterov momentum" contains "$recipe" '"nesterov": true'
check "the resnet recipe smooths the labels" contains "$recipe" '"label_smoothing": 0.1'
out=$("$KILN" train --model resnet --optimizer adamw --epochs 0 --verbose 0 --output "$WORK/resnet-adamw" 2>&1)
check "another optimizer drops the recipe's SGD arguments" contains "$(cat "$WORK/resnet-adamw/recipe.json")" '"class_name": "AdamW"'
out=$("$KILN" show "$WORK/cnn" --layer conv2d --index 3 --output "$WORK/maps.png" 2>&1)
check "show --layer draws the feature maps" contains "$out" "32 feature maps, 26x26, of layer 'conv2d'"
check "show --layer writes the picture" test -s "$WORK/maps.png"
check "show --layer draws a first convolution's kernels" test -s "$WORK/maps-kernels.png"
err=$("$KILN" show "$WORK/cnn" --layer dense 2>&1)
check "show --layer refuses a flat layer" contains "$err" "not feature maps"
err=$("$KILN" show "$WORK/cnn" --layer convolution 2>&1)
check "show --layer names the layers it has" contains "$err" "conv2d, max_pooling2d"
out=$("$KILN" predict "$WORK/cnn" --indices 0:2 --json 2>&1)
check "predict takes (28, 28) images into a (28, 28, 1) model" contains "$out" '"probabilities"'

# kiln serve: one model folder under its folder's name on a free port; SIGTERM ends it with 0.
"$KILN" serve "$WORK/model" --rest_api_port 0 2>"$WORK/serve.log" &
serve_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*serving .* on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/serve.log")
  [[ -n $port ]] && break
  sleep 0.1
done
check "serve says where it listens" test -n "$port"
status=$(curl -s "http://127.0.0.1:$port/v1/models/model")
check "serve answers the model's status" contains "$status" '"state":"AVAILABLE"'
zeros=$(python3 -c 'import json; print(json.dumps({"instances": [[[0.0] * 28] * 28]}))')
pred=$(curl -s -X POST -d "$zeros" "http://127.0.0.1:$port/v1/models/model:predict")
check "serve predicts" contains "$pred" '{"predictions":[['
kill -TERM $serve_pid
wait $serve_pid
check "serve exits 0 on SIGTERM" test $? -eq 0
check "serve logs each request" contains "$(cat "$WORK/serve.log")" '"POST /v1/models/model:predict" 200'
# Several models from TF Serving's model config file.
cat >"$WORK/models.config" <<EOF
model_config_list {
  config { name: 'mlp' base_path: '$WORK/model' model_platform: 'tensorflow' }
  config { name: "cnn", base_path: "$WORK/cnn" }
}
EOF
"$KILN" serve --model_config_file "$WORK/models.config" --rest_api_port 0 --quiet 2>"$WORK/serve2.log" &
serve_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*serving .cnn. on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/serve2.log")
  [[ -n $port ]] && break
  sleep 0.1
done
check "serve --model_config_file serves the first model" contains "$(curl -s "http://127.0.0.1:$port/v1/models/mlp")" AVAILABLE
check "serve --model_config_file serves the second model" contains "$(curl -s "http://127.0.0.1:$port/v1/models/cnn/metadata")" '"conv2d_input"'
kill -TERM $serve_pid
wait $serve_pid
# The page at / in headless Chromium (where Debian's chromium and chromium-driver are installed,
# as the setup installs them): upload an image, read the top class off the page.
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  browser=$(python3 "$(dirname "$0")/browser_test.py" "$KILN" "$WORK/model" "$WORK" 2>&1)
  check "the page predicts an uploaded image as kiln predict does (${browser//$'\n'/; })" contains "$browser" "browser test passed"
else
  echo "skipped: the browser test (no chromium or chromedriver)"
fi
err=$("$KILN" serve "$WORK/nothing" 2>&1)
check "serve names a missing folder" contains "$err" "'$WORK/nothing' is not a folder"

# kiln datasets: the list, and an export of a CIFAR-10 archive made here in the real binary
# layout (found through $KILN_DATASETS) as a JPEG folder.
out=$("$KILN" datasets list 2>&1)
for name in fashion-mnist mnist cifar100 cifar100-coarse; do
  check "datasets list names $name" matches "$out" "^$name "
done
check "datasets list gives CIFAR-10's shape and sizes" matches "$out" '^cifar10 +32x32x3 +50000 +10000 +10 '
check "datasets list says where Fashion-MNIST is" contains "$out" "in /usr/share/datasets/fashion-mnist"
mkdir -p "$WORK/cache/cifar10"
python3 - "$WORK/cache/cifar10/cifar-10-binary.tar.gz" <<'PY'
import io, sys, tarfile
def batch(n, first):
    return b"".join(bytes([r % 10]) + bytes((r * 5 + i) % 256 for i in range(3072)) for r in range(first, first + n))
with tarfile.open(sys.argv[1], "w:gz") as tar:
    names = [f"data_batch_{b}.bin" for b in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        data = batch(4, 4 * k)
        info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
PY
out=$(KILN_DATASETS="$WORK/cache" "$KILN" datasets export cifar10 "$WORK/cifar" --format jpeg 2>&1)
check "datasets export reports what it wrote" contains "$out" "Wrote 24 jpeg images"
check "datasets export counts images in its progress bar" matches "$out" '24/24 \[=+\] - [0-9]+s [0-9]+(us|ms)/image'
check "datasets export writes class folders in label order" test "$(ls "$WORK/cifar/train" | tr '\n' ' ')" = "0_airplane 1_automobile 2_bird 3_cat 4_deer 5_dog 6_frog 7_horse 8_ship 9_truck "
check "datasets export names images by their index" test -s "$WORK/cifar/test/3_cat/3.jpg"
# Training from the exported folder: train/ and test/ found, 32x32 rgb read off the first image.
out=$("$KILN" train --dataset "$WORK/cifar" --model cnn --epochs 1 --validation-size 4 --verbose 2 \
  --output "$WORK/folder_model" 2>&1)
check "train --dataset DIR finds the classes (${out##*$'\n'})" contains "$out" "Found 20 files belonging to 10 classes."
check "train --dataset DIR evaluates on DIR/test" contains "$out" "Found 4 files belonging to 10 classes."
check "train --dataset DIR reads 32x32 rgb" contains "$out" "conv2d (Conv2D)             (None, 30, 30, 32)        896"
check "train --dataset DIR records the folder's settings" contains "$(cat "$WORK/folder_model/recipe.json")" '"color_mode": "rgb"'
check "train --dataset DIR keeps the folders' class names" contains "$(cat "$WORK/folder_model/config.json")" '"0_airplane"'
check "train --dataset DIR shows the time spent waiting for data" matches "$out" '^[0-9]+/[0-9]+ - .* - [0-9.]+% waiting for data$'
# --cache FILE keeps the decoded images; a later run reads them instead of the files (here made
# unreadable, so that decoding them would fail).
out=$("$KILN" train --dataset "$WORK/cifar" --model cnn --epochs 1 --validation-size 4 --verbose 0 --cache "$WORK/cifar.cache" \
  --output "$WORK/folder_cached" 2>&1)
check "train --cache FILE writes the training and validation caches ($out)" test -s "$WORK/cifar.cache" -a -s "$WORK/cifar.cache.validation"
cp -r "$WORK/cifar" "$WORK/cifar_kept"
for f in "$WORK"/cifar/train/*/*; do printf 'garbage' > "$f"; done
out2=$("$KILN" train --dataset "$WORK/cifar" --image-size 32x32 --color-mode rgb --model cnn --epochs 1 --validation-size 4 --verbose 0 --cache "$WORK/cifar.cache" \
  --output "$WORK/folder_cached2" 2>&1)
check "a second run reads the cache file, not the images (${out2##*$'\n'})" test "$(grep 'Test loss' <<<"$out")" = "$(grep 'Test loss' <<<"$out2")"
err=$("$KILN" train --dataset "$WORK/cifar" --image-size 32x32 --color-mode rgb --model cnn --epochs 1 --validation-size 4 --verbose 0 --cache none \
  --output "$WORK/folder_uncached" 2>&1)
check "without the cache the unreadable image is named" contains "$err" "not an image kiln reads"
rm -rf "$WORK/cifar" && mv "$WORK/cifar_kept" "$WORK/cifar"
json=$("$KILN" evaluate "$WORK/folder_model" --json 2>&1)
check "evaluate reads the model's folder's test split ($json)" matches "$json" '"accuracy":'
out=$("$KILN" train --dataset "$WORK/cifar/train" --image-size 16x16 --color-mode grayscale --epochs 1 \
  --validation-size 4 --verbose 0 --output "$WORK/folder_small" 2>&1)
check "train --dataset DIR without test/ says so" contains "$out" "No test split"
check "train --image-size and --color-mode shape the input" contains "$("$KILN" summary "$WORK/folder_small")" "flatten (Flatten)           (None, 256)"
err=$("$KILN" train --dataset "$WORK/cifar" --image-size 16 2>&1)
check "train --image-size names its form" contains "$err" "--image-size takes HEIGHTxWIDTH"
# The recipes take colour images: the convolutions' input has the dataset's channels.
out=$(KILN_DATASETS="$WORK/cache" "$KILN" train --dataset cifar10 --model resnet --epochs 1 --validation-size 4 \
  --verbose 2 --output "$WORK/cifar_model" 2>&1)
check "train --dataset cifar10 --model resnet trains (${out##*$'\n'})" contains "$out" "Saved the model to $WORK/cifar_model"
check "the resnet recipe takes 32x32x3 images on CIFAR-10" contains "$out" "(None, 32, 32, 3)"
out=$("$KILN" predict "$WORK/cifar_model" "$WORK/cifar/test/3_cat/3.jpg" 2>&1)
check "predict reads a JPEG" matches "$out" '3_cat/3.jpg: [a-z]+ \(0\.[0-9]{4}\)$'
err=$(KILN_DATASETS="$WORK/cache" "$KILN" datasets export cifar10 "$WORK/cifar" 2>&1)
check "datasets export refuses a folder in use" contains "$err" "exists and is not an empty folder"
err=$("$KILN" datasets export cifar1000 "$WORK/x" 2>&1)
check "datasets export lists the names it knows" contains "$err" "unknown dataset 'cifar1000'; expected one of: fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse"

finish
