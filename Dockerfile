# recur serve in a container: a static binary (pure Go, no cgo) on a
# distroless base that holds nothing else (no shell, no libc), run as a
# non-root user. README.md, "Deploy", says how to run it.
#
#   docker build -t recur .
#   docker run --rm -p 8080:8080 -v "$PWD/runs/air:/model:ro" recur
#
# The build stage uses the Go release that go.mod names.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/recur ./cmd/recur

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/recur /recur
USER nonroot:nonroot
EXPOSE 8080
# A model directory (or file) mounted at /model; add
# --auth-token-file and --tls-cert/--tls-key (mounted secrets), or put the
# container behind a proxy that terminates TLS and checks a token.
ENTRYPOINT ["/recur"]
CMD ["serve", "--model", "/model", "--addr", ":8080"]
