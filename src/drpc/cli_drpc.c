/*
 * dRPC client: blocking calls from plain threads over a Unix SEQPACKET socket, with
 * timeouts and sequence matching. Calls on one client are serialised by a mutex.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cairn/errno.h>

#include "drpc/drpc.h"

struct cairn_drpc_client {
	pthread_mutex_t lock;
	int fd;
	uint64_t sequence;
	uint8_t *rxbuf; /* CAIRN_DRPC_MAX_MSG + 1 */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
cairn_drpc_client_connect(const char *path, unsigned timeout_ms, struct cairn_drpc_client **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t deadline = now_ms() + timeout_ms;
	struct cairn_drpc_client *cl;
	int fd, rc;

	if (path == NULL || out == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return -CAIRN_ERR_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		rc = -errno;
		close(fd);
		if ((rc != -ENOENT && rc != -ECONNREFUSED && rc != -EAGAIN) || now_ms() >= deadline)
			return rc;
		usleep(10000);
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		goto err_close;
	cl->rxbuf = malloc(CAIRN_DRPC_MAX_MSG + 1);
	if (cl->rxbuf == NULL)
		goto err_free;
	pthread_mutex_init(&cl->lock, NULL);
	cl->fd = fd;
	*out = cl;
	return 0;

err_free:
	free(cl);
err_close:
	close(fd);
	return -CAIRN_ERR_NOMEM;
}

void
cairn_drpc_client_close(struct cairn_drpc_client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	pthread_mutex_destroy(&cl->lock);
	free(cl->rxbuf);
	free(cl);
}

static int
send_packet(struct cairn_drpc_client *cl, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(cl->fd, buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EPIPE || errno == ECONNRESET) ? -CAIRN_ERR_UNREACH : -errno;
	return n == (ssize_t)len ? 0 : -CAIRN_ERR_IO;
}

/* Receive one Response before the deadline (ms, absolute). */
static int
recv_response(struct cairn_drpc_client *cl, uint64_t deadline, struct cairn_drpc_response *resp)
{
	struct pollfd pfd = {.fd = cl->fd, .events = POLLIN};
	uint64_t now;
	ssize_t n;
	int rc;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return -CAIRN_ERR_TIMEDOUT;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -CAIRN_ERR_TIMEDOUT;
		n = recv(cl->fd, cl->rxbuf, CAIRN_DRPC_MAX_MSG + 1, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -CAIRN_ERR_UNREACH : -errno;
		if (n == 0)
			return -CAIRN_ERR_UNREACH;
		if ((size_t)n > CAIRN_DRPC_MAX_MSG)
			return -CAIRN_ERR_PROTO;
		rc = cairn_drpc_response_decode(cl->rxbuf, (size_t)n, resp);
		return rc == -CAIRN_ERR_OVERFLOW ? -CAIRN_ERR_PROTO : rc;
	}
}

int
cairn_drpc_client_call(struct cairn_drpc_client *cl, uint32_t module, uint32_t method,
                       const void *body, size_t body_len, unsigned timeout_ms,
                       struct cairn_drpc_response *resp)
{
	uint64_t deadline = now_ms() + timeout_ms, seq;
	uint8_t *buf;
	size_t len;
	int rc;

	if (cl == NULL || resp == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&cl->lock);
	seq = ++cl->sequence;
	rc = cairn_drpc_call_encode(module, method, seq, body, body_len, &buf, &len);
	if (rc)
		goto out;
	rc = send_packet(cl, buf, len);
	free(buf);
	if (rc)
		goto out;
	for (;;) {
		rc = recv_response(cl, deadline, resp);
		if (rc)
			break;
		/* A reply to this call, or a connection-level error about a Call the server
		 * could not decode (sequence 0): ours, since calls are serialised. */
		if (resp->sequence == seq || resp->sequence == 0)
			break;
		cairn_drpc_response_release(resp); /* late reply to a timed-out call */
	}
out:
	pthread_mutex_unlock(&cl->lock);
	return rc;
}

int
cairn_drpc_client_send_raw(struct cairn_drpc_client *cl, const void *buf, size_t len)
{
	int rc;

	if (cl == NULL || (buf == NULL && len))
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&cl->lock);
	rc = send_packet(cl, buf, len);
	pthread_mutex_unlock(&cl->lock);
	return rc;
}

int
cairn_drpc_client_recv(struct cairn_drpc_client *cl, unsigned timeout_ms,
                       struct cairn_drpc_response *resp)
{
	int rc;

	if (cl == NULL || resp == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&cl->lock);
	rc = recv_response(cl, now_ms() + timeout_ms, resp);
	pthread_mutex_unlock(&cl->lock);
	return rc;
}
