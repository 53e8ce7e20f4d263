"""Notifications on the message bus: what happened, after it was saved.

sender    the options, the filter (disabled_notifications) and the one
          background thread per process that hands events to oslo.messaging
payloads  the body of each event type, as consumers of the reference
          service expect it
proxy     the layer the gateway stacks around the repositories
"""
